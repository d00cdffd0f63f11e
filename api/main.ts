/**
 * Container entry point: read the settings file (API_CONFIG) and the secrets it points to,
 * start the API, stop cleanly on SIGTERM (docker stop).
 */
import { startApi } from "./server";
import { configPath, readSecrets, readSettingsFile } from "./settings";

async function main(): Promise<void> {
  const settings = readSettingsFile(configPath());
  const secrets = readSecrets(settings.secretsDir);
  const api = await startApi({ settings, secrets, logger: { level: process.env.LOG_LEVEL || "info" } });
  const stop = (signal: NodeJS.Signals) => {
    api.app.log.info({ signal }, "shutting down");
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: Error) => {
  // Before the logger exists: one JSON line in the same shape (messages name files, never secrets).
  process.stderr.write(
    JSON.stringify({
      level: 60,
      time: Date.now(),
      msg: `config API failed to start: ${error.message}`,
      err: error.name,
    }) + "\n",
  );
  process.exit(1);
});
