/** The exact command the person runs; OpenSSH needs no `-p` for the default port. */
export function formatSshCommand(connectionIdentifier: string, host: string, port: number): string {
  const target = `${connectionIdentifier}@${host}`;
  return port === 22 ? `ssh ${target}` : `ssh -p ${port} ${target}`;
}
