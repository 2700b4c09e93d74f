/** Real configs for the analytics tests, through the real loader (schema defaults, cross-checks). */
import { loadConfigText } from "../../../src/config/loadConfig.js";
import type { Config } from "../../../src/config/schema/index.js";

/**
 * A config with one serial-line device `device` whose tags are `tags`, and `analytics` (YAML text
 * indented for the analytics key). The serial port is never opened by these tests.
 */
export function analyticsConfig(options: {
  dataDir: string;
  device?: string;
  tags: readonly string[];
  analytics: string;
  timezone?: string;
}): Config {
  const device = options.device ?? "press-1";
  const tags = options.tags.map((tag) => `      - { name: ${tag} }`).join("\n");
  const text = `gateway:
  id: gw-test
  site: lab
  dataDir: ${options.dataDir}
  timezone: ${options.timezone ?? "UTC"}
devices:
  - name: ${device}
    protocol: serial-line
    serial: { path: /dev/null }
    parser: { format: key-value }
    tags:
${tags}
analytics:
${options.analytics}
`;
  const result = loadConfigText(text, { displayName: "test.yaml", baseDir: options.dataDir, env: {} });
  if (!result.ok) {
    throw new Error(
      result.errors.map((e) => `${e.line}:${e.col}: ${e.path.join(".")}: ${e.message}`).join("\n"),
    );
  }
  return result.config;
}
