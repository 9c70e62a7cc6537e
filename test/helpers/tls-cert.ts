import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface TestCertificate {
  /** PEM certificate, self-signed: it is its own CA (for NODE_EXTRA_CA_CERTS or `ca`). */
  cert: string;
  key: string;
}

/** A throwaway self-signed certificate for localhost and 127.0.0.1 in `dir`, valid one day (openssl). */
export function makeTestCertificate(dir: string): TestCertificate {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}
