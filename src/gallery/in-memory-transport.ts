/**
 * Two linked in-process transports: what one sends, the other receives (on
 * a later microtask, as a socket would deliver it). Connects this server's
 * SDK client to a gallery app's bundled SDK server without a process or a
 * port; the only contract between the two SDK copies is the JSON-RPC
 * message shape.
 */
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';

class LinkedTransport implements Transport {
  peer?: LinkedTransport;
  closed = false;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    const peer = this.peer!;
    // A structured copy: the two sides share no objects, as over a wire.
    const copy = structuredClone(message);
    queueMicrotask(() => {
      if (!peer.closed) peer.onmessage?.(copy);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
    await this.peer?.close();
  }
}

export function linkedTransports(): [Transport, Transport] {
  const a = new LinkedTransport();
  const b = new LinkedTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
