import type { Socket } from "node:net";

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/**
 * The caps of SPEC §3: connections in total, counted from accept to close, and per client address, counted from
 * the moment the address is known (at accept, or from a trusted balancer's PROXY header) to close.
 */
export class SocketAdmission {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Takes a place under the total cap, for a socket whose client address is not known yet. */
  admitSocket(): boolean {
    if (this.total >= this.limits.maxConnections) return false;
    this.total += 1;
    return true;
  }

  /** Takes a place under the per-address cap. */
  admitAddress(address: string): boolean {
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerIp) return false;
    this.perAddress.set(address, fromAddress + 1);
    return true;
  }

  releaseSocket(): void {
    this.total -= 1;
  }

  releaseAddress(address: string): void {
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}

/** The TCP peer's address, IPv4 peers of a dual-stack socket as IPv4. */
export function peerAddressOf(socket: Socket): string {
  const address = socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

export interface DeadlineSettings {
  loginGraceMs: number;
  idleMs: number;
}

/**
 * ssh2 has no deadline before authentication. The login deadline runs from the client's first byte until
 * authentication; the idle deadline from accept, pushed back by every step of the login and session
 * (not by transport keepalives, which would keep an idle connection alive for ever).
 */
export class ConnectionDeadlines {
  private loginTimer: NodeJS.Timeout | null = null;
  private readonly idleTimer: NodeJS.Timeout;
  private authenticated = false;

  constructor(
    socket: Socket,
    settings: DeadlineSettings,
    onExpired: (deadline: "login" | "idle") => void,
  ) {
    this.idleTimer = setTimeout(() => onExpired("idle"), settings.idleMs);
    socket.once("data", () => {
      if (!this.authenticated) this.loginTimer = setTimeout(() => onExpired("login"), settings.loginGraceMs);
    });
  }

  /** The connection made progress. */
  touch(): void {
    this.idleTimer.refresh();
  }

  /** Authentication is over: the login deadline no longer applies. */
  authenticate(): void {
    this.authenticated = true;
    if (this.loginTimer) clearTimeout(this.loginTimer);
  }

  /** While the person reads the confirmation prompt, the confirmation timeout applies instead. */
  pauseIdle(): void {
    clearTimeout(this.idleTimer);
  }

  clear(): void {
    clearTimeout(this.idleTimer);
    if (this.loginTimer) clearTimeout(this.loginTimer);
  }
}
