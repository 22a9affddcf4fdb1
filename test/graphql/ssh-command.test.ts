import { describe, expect, it } from "vitest";
import { formatSshCommand } from "../../src/graphql/ssh-command.js";

describe("the ssh command a person runs", () => {
  it("names the port when it is not 22", () => {
    expect(formatSshCommand("abcdef", "ssh.example.com", 2222)).toBe("ssh -p 2222 abcdef@ssh.example.com");
  });

  it("leaves out -p on port 22", () => {
    expect(formatSshCommand("abcdef", "ssh.example.com", 22)).toBe("ssh abcdef@ssh.example.com");
  });
});
