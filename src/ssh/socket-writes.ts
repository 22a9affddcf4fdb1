import type { Socket } from "node:net";

/**
 * ssh2 writes every packet with its own `socket.write`, and with TCP_NODELAY each write is a system call and a
 * segment of its own. Writes made in the same tick (key exchange reply + NEWKEYS, banner + answer) go out
 * together: the first one corks the socket until the next tick.
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket["write"]>): boolean {
    if (this.writableCorked === 0) {
      this.cork();
      process.nextTick(() => this.uncork());
    }
    return write.apply(this, args);
  } as Socket["write"];
}
