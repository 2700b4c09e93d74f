/**
 * The models directory (analytics.modelDir, default <dataDir>/models; issue #6 item 5):
 *
 *   <device>/<kind>.json       {card, model}: a trained model and its model card
 *   <device>/<kind>.card.md    the card for people
 *   <device>/state.json        run-time state: streaming baselines, profile monitors, open alerts, OEE
 *   analytics.json             {firstStartTs}: when the learning period began (survives restarts)
 *
 * Every file is replaced whole (atomicFile.ts). Device names are config names ([A-Za-z0-9][A-Za-z0-9_.-]*),
 * so they are safe path segments; kinds are the fixed DETECTOR_KINDS.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { NAME_PATTERN } from "../../config/schema/primitives.js";
import type { DetectorKind } from "../findings.js";
import { removeStaleTemps, writeFileAtomic } from "./atomicFile.js";
import { type ModelCard, modelCardMarkdown, modelCardSchema } from "./modelCard.js";

export interface StoredModel {
  readonly card: ModelCard;
  /** The detector's own JSON; its fromJSON validates it. */
  readonly model: unknown;
}

/** A model or state file that exists but cannot be used; says which file and why. */
export class ModelFileError extends Error {
  override readonly name = "ModelFileError";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

export interface AnalyticsMeta {
  /** Wall-clock ms when analytics first ran on this gateway: the learning period starts here. */
  readonly firstStartTs: number;
}

const DEVICE_PATTERN = new RegExp(NAME_PATTERN);

export class ModelStore {
  constructor(readonly dir: string) {}

  modelPath(device: string, kind: DetectorKind): string {
    return join(this.#deviceDir(device), `${kind}.json`);
  }

  async saveModel(stored: StoredModel): Promise<void> {
    const { device, kind } = stored.card;
    await writeFileAtomic(this.modelPath(device, kind), `${JSON.stringify(stored)}\n`);
    await writeFileAtomic(join(this.#deviceDir(device), `${kind}.card.md`), modelCardMarkdown(stored.card));
  }

  /** The stored model, or undefined when there is none; ModelFileError when it is unreadable. */
  async loadModel(device: string, kind: DetectorKind): Promise<StoredModel | undefined> {
    const path = this.modelPath(device, kind);
    const json = await readJson(path);
    if (json === undefined) {
      return undefined;
    }
    if (typeof json !== "object" || json === null || !("card" in json) || !("model" in json)) {
      throw new ModelFileError(path, "not a model file: expected an object with card and model");
    }
    const card = modelCardSchema.safeParse(json.card);
    if (!card.success) {
      throw new ModelFileError(path, `bad model card: ${card.error.issues[0]?.message ?? "invalid"}`);
    }
    if (card.data.device !== device || card.data.kind !== kind) {
      throw new ModelFileError(path, `the card is for ${card.data.kind} of ${card.data.device}`);
    }
    return { card: card.data, model: json.model };
  }

  saveState(device: string, state: unknown): Promise<void> {
    return writeFileAtomic(join(this.#deviceDir(device), "state.json"), `${JSON.stringify(state)}\n`);
  }

  loadState(device: string): Promise<unknown> {
    return readJson(join(this.#deviceDir(device), "state.json"));
  }

  /** The meta file, created with `nowTs` as first start when absent. */
  async meta(nowTs: number): Promise<AnalyticsMeta> {
    const path = join(this.dir, "analytics.json");
    const json = await readJson(path).catch(() => undefined);
    if (
      typeof json === "object" &&
      json !== null &&
      "firstStartTs" in json &&
      typeof json.firstStartTs === "number" &&
      Number.isFinite(json.firstStartTs)
    ) {
      return { firstStartTs: json.firstStartTs };
    }
    const meta = { firstStartTs: nowTs };
    await writeFileAtomic(path, `${JSON.stringify(meta)}\n`);
    return meta;
  }

  /** Devices that have a folder here (models or state), whether or not the config still lists them. */
  async devices(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isDirectory() && DEVICE_PATTERN.test(entry.name))
      .map((e) => e.name);
  }

  async cleanTemps(devices: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      [this.dir, ...devices.map((d) => this.#deviceDir(d))].map(removeStaleTemps),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  #deviceDir(device: string): string {
    if (!DEVICE_PATTERN.test(device)) {
      throw new RangeError(`not a device name: ${JSON.stringify(device)}`);
    }
    return join(this.dir, device);
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw new ModelFileError(path, (error as Error).message);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelFileError(path, `not JSON (${(error as Error).message}); a torn or edited file`);
  }
}
