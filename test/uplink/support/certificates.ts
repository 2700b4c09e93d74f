/**
 * A throw-away PKI made with openssl for TLS tests: a CA, a broker certificate for the name
 * "broker.test" (no IP address, so serverName is needed), a client certificate, and a second CA
 * that signed nothing of ours. Keys are written 0600, as a gateway would keep them.
 */
import { execFileSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const BROKER_NAME = "broker.test";

export interface TestPki {
  readonly caFile: string;
  readonly otherCaFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=edgewarden ${name}`,
  ]);
}

function signed(dir: string, name: string, subject: string): void {
  openssl(dir, ["req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  ]);
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  await writeFile(
    join(dir, "server.ext"),
    `subjectAltName=DNS:${BROKER_NAME}\nextendedKeyUsage=serverAuth\n`,
  );
  await writeFile(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  signed(dir, "server", `/CN=${BROKER_NAME}`);
  signed(dir, "client", "/CN=gw-test");
  for (const key of ["ca.key", "other-ca.key", "server.key", "client.key"]) {
    await chmod(join(dir, key), 0o600);
  }
  return {
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other-ca.pem"),
    serverCertFile: join(dir, "server.pem"),
    serverKeyFile: join(dir, "server.key"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client.key"),
  };
}
