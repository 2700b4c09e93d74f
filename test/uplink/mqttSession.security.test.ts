/**
 * TLS and authentication of the MQTT session against a real mosquitto (issue #5, item 5): a CA
 * and certificates made with openssl in the test, client certificates the broker requires, a
 * wrong CA refused, serverName, rejectUnauthorized false with its warning; username with the
 * first line of a 0600 passwordFile, and secret files too open refused with the chmod that fixes it.
 */
import { spawnSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UplinkFileError } from "../../src/uplink/uplinkFiles.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { BROKER_NAME, makeTestPki, type TestPki } from "./support/certificates.js";
import { sessionSettings, TestSession } from "./support/session.js";

let resources: Resources;
beforeEach(() => {
  resources = new Resources();
});
afterEach(async () => {
  await resources.release();
});

async function tlsBroker(): Promise<{ mosquitto: Mosquitto; pki: TestPki; dir: string }> {
  const dir = await resources.tempDir("edgewarden-uplink-tls-");
  const pki = await makeTestPki(dir);
  const mosquitto = resources.track(
    await Mosquitto.start({
      dir,
      listener: [
        `cafile ${pki.caFile}`,
        `certfile ${pki.serverCertFile}`,
        `keyfile ${pki.serverKeyFile}`,
        "require_certificate true",
      ],
    }),
  );
  return { mosquitto, pki, dir };
}

function tlsSession(port: number, tls: NonNullable<Parameters<typeof sessionSettings>[1]>["tls"]) {
  return resources.track(new TestSession(sessionSettings(port, { url: `mqtts://127.0.0.1:${port}`, tls })));
}

async function failsToConnect(gateway: TestSession): Promise<string | undefined> {
  await waitUntil(() => gateway.session.status().failures >= 2, "two failed attempts");
  expect(gateway.session.current()).toBeUndefined();
  return gateway.session.status().lastError;
}

describe("MqttSession over TLS", () => {
  it("connects trusting the configured CA, with the client certificate the broker requires", async () => {
    const { mosquitto, pki } = await tlsBroker();
    const gateway = tlsSession(mosquitto.port, {
      caFile: pki.caFile,
      certFile: pki.clientCertFile,
      keyFile: pki.clientKeyFile,
      serverName: BROKER_NAME,
      rejectUnauthorized: true,
    });
    await gateway.start();
    await gateway.connected();
    expect(gateway.messages()).not.toContain(expect.stringMatching(/rejectUnauthorized/));
  });

  it("refuses a broker whose certificate the configured CA did not sign", async () => {
    const { mosquitto, pki } = await tlsBroker();
    const gateway = tlsSession(mosquitto.port, {
      caFile: pki.otherCaFile,
      certFile: pki.clientCertFile,
      keyFile: pki.clientKeyFile,
      serverName: BROKER_NAME,
      rejectUnauthorized: true,
    });
    await gateway.start();
    const reason = await failsToConnect(gateway);
    expect(reason).toMatch(/certificate/i);
    expect(mosquitto.log()).not.toMatch(/New client connected/);
  });

  it("refuses a certificate for another name unless serverName names it", async () => {
    const { mosquitto, pki } = await tlsBroker();
    const files = { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile };
    const wrongName = tlsSession(mosquitto.port, { ...files, rejectUnauthorized: true });
    await wrongName.start();
    expect(await failsToConnect(wrongName)).toMatch(/altnames|hostname|IP/i);
  });

  it("is refused by a broker that requires a client certificate when it has none", async () => {
    const { mosquitto, pki } = await tlsBroker();
    const gateway = tlsSession(mosquitto.port, {
      caFile: pki.caFile,
      serverName: BROKER_NAME,
      rejectUnauthorized: true,
    });
    await gateway.start();
    await failsToConnect(gateway);
  });

  it("with rejectUnauthorized false connects to an unknown broker and warns at every start", async () => {
    const { mosquitto, pki } = await tlsBroker();
    const gateway = tlsSession(mosquitto.port, {
      caFile: pki.otherCaFile,
      certFile: pki.clientCertFile,
      keyFile: pki.clientKeyFile,
      rejectUnauthorized: false,
    });
    await gateway.start();
    await gateway.connected();
    const warning = gateway.log.lines.find((line) =>
      String(line.msg).includes("rejectUnauthorized is false"),
    );
    expect(warning?.level).toBe("warn");
  });

  it("refuses to start with a TLS key file readable by others, naming the chmod that fixes it", async () => {
    const { mosquitto, pki } = await tlsBroker();
    await chmod(pki.clientKeyFile, 0o644);
    const gateway = tlsSession(mosquitto.port, {
      caFile: pki.caFile,
      certFile: pki.clientCertFile,
      keyFile: pki.clientKeyFile,
      rejectUnauthorized: true,
    });
    const error: unknown = await gateway.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UplinkFileError);
    expect(String((error as Error).message)).toContain(`run: chmod 600 ${pki.clientKeyFile}`);
    expect(String((error as Error).message)).not.toContain("PRIVATE KEY");
  });
});

describe("MqttSession authentication", () => {
  async function authBroker(): Promise<{ mosquitto: Mosquitto; dir: string }> {
    const dir = await resources.tempDir("edgewarden-uplink-auth-");
    const passwd = join(dir, "mosquitto.passwd");
    const made = spawnSync("mosquitto_passwd", ["-c", "-b", passwd, "gw-test", "s3cret-Pa55"], {
      encoding: "utf8",
    });
    expect(made.status, made.stderr).toBe(0);
    const mosquitto = resources.track(
      await Mosquitto.start({ dir, allowAnonymous: false, global: [`password_file ${passwd}`] }),
    );
    return { mosquitto, dir };
  }

  async function passwordFile(dir: string, text: string, mode: number): Promise<string> {
    const path = join(dir, "broker.password");
    await writeFile(path, text, { mode });
    await chmod(path, mode);
    return path;
  }

  it("logs in with the username and the first line of the passwordFile", async () => {
    const { mosquitto, dir } = await authBroker();
    const path = await passwordFile(dir, "s3cret-Pa55\r\nsecond line ignored\n", 0o600);
    const gateway = resources.track(
      new TestSession(sessionSettings(mosquitto.port, { username: "gw-test", passwordFile: path })),
    );
    await gateway.start();
    await gateway.connected();
  });

  it("is refused with a wrong password, retries with backoff and never logs the password", async () => {
    const { mosquitto, dir } = await authBroker();
    const path = await passwordFile(dir, "wrong-Pa55\n", 0o600);
    const gateway = resources.track(
      new TestSession(sessionSettings(mosquitto.port, { username: "gw-test", passwordFile: path })),
    );
    await gateway.start();
    const reason = await failsToConnect(gateway);
    expect(reason).toMatch(/Bad User Name or Password|Not authorized/);
    expect(JSON.stringify(gateway.log.lines)).not.toContain("wrong-Pa55");
  });

  it("refuses a passwordFile readable by group or others (0644), naming the chmod", async () => {
    const { mosquitto, dir } = await authBroker();
    const path = await passwordFile(dir, "s3cret-Pa55\n", 0o644);
    const gateway = resources.track(
      new TestSession(sessionSettings(mosquitto.port, { username: "gw-test", passwordFile: path })),
    );
    const error: unknown = await gateway.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UplinkFileError);
    expect((error as Error).message).toBe(
      `${path}: password file holds a secret but is readable by group or others (mode 0644); run: chmod 600 ${path}`,
    );
    expect(mosquitto.log()).not.toMatch(/New client connected/);
  });
});
