/**
 * Docker HEALTHCHECK: exit 0 when the API's /readyz answers 200 on the address its settings
 * file names. Bundled separately so the probe does not load the whole server.
 */
import { configPath, readSettingsFile } from "./settings";

async function probe(): Promise<number> {
  const { listen } = readSettingsFile(configPath());
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  const response = await fetch(`http://${host}:${listen.port}/readyz`, { signal: AbortSignal.timeout(3000) });
  return response.status === 200 ? 0 : 1;
}

probe().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`healthcheck: ${error.message}\n`);
    process.exit(1);
  },
);
