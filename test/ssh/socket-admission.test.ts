import { describe, expect, it } from "vitest";
import { SocketAdmission } from "../../src/ssh/socket-admission.js";

describe("SocketAdmission", () => {
  it("admits up to the per-address cap, and again once a connection of that address has gone", () => {
    const admission = new SocketAdmission({ maxConnections: 10, maxConnectionsPerIp: 2 });

    expect(admission.admitAddress("192.0.2.1")).toBe(true);
    expect(admission.admitAddress("192.0.2.1")).toBe(true);
    expect(admission.admitAddress("192.0.2.1")).toBe(false);
    expect(admission.admitAddress("192.0.2.2")).toBe(true);

    admission.releaseAddress("192.0.2.1");
    expect(admission.admitAddress("192.0.2.1")).toBe(true);
  });

  it("admits sockets up to the total cap, before any address is known, and again once one has gone", () => {
    const admission = new SocketAdmission({ maxConnections: 2, maxConnectionsPerIp: 2 });

    expect(admission.admitSocket()).toBe(true);
    expect(admission.admitSocket()).toBe(true);
    expect(admission.admitSocket()).toBe(false);

    admission.releaseSocket();
    expect(admission.admitSocket()).toBe(true);
  });
});
