/**
 * The demo's temp directory (issue #7 item 4: "a demo key generated in a temp dir"): a fresh
 * gateway key (mode 0600, as `keys generate` writes it), the daemon's data directory, and the
 * daemon config made from the template config/demo.yaml with the free ports and the paths filled
 * in. The template is edited as a YAML document, so its comments survive into the copy a curious
 * user opens with --keep.
 *
 * create() makes the directory and the key; writeConfig() needs the ports, known once the broker
 * and the simulator listen; remove() deletes everything unless the user asked to keep it.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isSeq, parseDocument } from "yaml";
import { formatIssue } from "../config/configIssue.js";
import { loadConfigFile } from "../config/loadConfig.js";
import type { Config } from "../config/schema/index.js";
import { createKeyFile, type GatewayKeyFile, newGatewayKeyFile } from "../crypto/keys/index.js";

export const DEMO_TEMPLATE = fileURLToPath(new URL("../../config/demo.yaml", import.meta.url));
export const DEMO_PLANT = fileURLToPath(new URL("../../config/plant-sim.yaml", import.meta.url));

export interface DemoPorts {
  /** mqtt://127.0.0.1:N of the embedded broker. */
  readonly brokerUrl: string;
  /** The simulator's Modbus TCP port. */
  readonly modbusPort: number;
  /** The daemon's status endpoint. */
  readonly statusPort: number;
}

export interface DemoFiles {
  readonly configPath: string;
  readonly config: Config;
}

export class DemoWorkspace {
  #dir: string | undefined;
  #key: GatewayKeyFile | undefined;

  constructor(private readonly template: string = DEMO_TEMPLATE) {}

  get dir(): string {
    if (this.#dir === undefined) {
      throw new Error("the demo workspace is not created");
    }
    return this.#dir;
  }

  get keyPath(): string {
    return join(this.dir, "gateway.key");
  }

  get daemonLogPath(): string {
    return join(this.dir, "daemon.log");
  }

  /** The gateway key the demo's receiver opens envelopes with (kept in memory; never printed). */
  get key(): GatewayKeyFile {
    if (this.#key === undefined) {
      throw new Error("the demo workspace is not created");
    }
    return this.#key;
  }

  async create(): Promise<string> {
    this.#dir = await mkdtemp(join(tmpdir(), "edgewarden-demo-"));
    this.#key = newGatewayKeyFile(new Date());
    await createKeyFile(this.keyPath, this.#key);
    return this.#dir;
  }

  /** Writes <dir>/demo.yaml from the template and loads it as the daemon will; throws on a problem. */
  async writeConfig(ports: DemoPorts): Promise<DemoFiles> {
    const document = parseDocument(await readFile(this.template, "utf8"));
    const dir = this.dir;
    document.setIn(["gateway", "dataDir"], join(dir, "data"));
    document.setIn(["crypto", "keyFile"], this.keyPath);
    document.setIn(["uplink", "url"], ports.brokerUrl);
    document.setIn(["observability", "status", "port"], ports.statusPort);
    document.setIn(["analytics", "modelDir"], join(dir, "data", "models"));
    const devices = document.get("devices");
    const count = isSeq(devices) ? devices.items.length : 0;
    for (let i = 0; i < count; i++) {
      document.setIn(["devices", i, "port"], ports.modbusPort);
    }
    const configPath = join(dir, "demo.yaml");
    await writeFile(configPath, document.toString({ lineWidth: 0 }), { mode: 0o600 });
    // No environment overrides: the demo runs what the file says, whatever the shell exports.
    const loaded = await loadConfigFile(configPath, { env: {} });
    if (!loaded.ok) {
      throw new Error(`the demo config is not valid:\n${loaded.errors.map(formatIssue).join("\n")}`);
    }
    return { configPath, config: loaded.config };
  }

  /** Deletes the directory (unless `keep`); returns the path when it was kept. */
  async remove(keep: boolean): Promise<string | undefined> {
    const dir = this.#dir;
    if (dir === undefined) {
      return undefined;
    }
    if (keep) {
      return dir;
    }
    this.#dir = undefined;
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
}
