import { describe, expect, it } from "vitest";
import { SocketAdmission } from "../../src/ssh/socket-admission.js";

describe("SocketAdmission", () => {
  it("admits up to the per-address cap, and again once a connection of that address has gone", () => {
    const admission = new SocketAdmission({ maxConnections: 10, maxConnectionsPerIp: 2 });

    expect(admission.admit("192.0.2.1")).toBe(true);
    expect(admission.admit("192.0.2.1")).toBe(true);
    expect(admission.admit("192.0.2.1")).toBe(false);
    expect(admission.admit("192.0.2.2")).toBe(true);

    admission.release("192.0.2.1");
    expect(admission.admit("192.0.2.1")).toBe(true);
  });

  it("admits up to the total cap, whatever the addresses", () => {
    const admission = new SocketAdmission({ maxConnections: 2, maxConnectionsPerIp: 2 });

    expect(admission.admit("192.0.2.1")).toBe(true);
    expect(admission.admit("2001:db8::1")).toBe(true);
    expect(admission.admit("192.0.2.3")).toBe(false);

    admission.release("2001:db8::1");
    expect(admission.admit("192.0.2.3")).toBe(true);
  });
});
