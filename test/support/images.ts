/**
 * The images the real-FreeSWITCH suite runs: FreeSWITCH's, named by FREESWITCH_IMAGE (taken from
 * the environment, never built here), and the config API's, built from the project FROM the Node.js
 * base image of .ci/docker-setup.sh when it is not in the local store yet.
 */
import { buildApiImageContext } from "../../components/apiImage";
import { API_IMAGE_REPO } from "../../sip/deploy";
import { apiBaseImage, freeswitchImage as freeswitchImageLookup, PROJECT_DIR, required } from "./environment";
import { docker } from "./exec";

/** The Node.js base image of .ci/docker-setup.sh: the API's image is built FROM it, and it holds the server's netns. */
let baseImage: string | undefined;
export const baseImageOnce = () => (baseImage ??= apiBaseImage());

async function ensureImage(image: string, build: () => Promise<void>): Promise<void> {
  try {
    await docker("image", "inspect", image);
  } catch {
    await build();
  }
}

/** The FreeSWITCH image under test: FREESWITCH_IMAGE, taken from the environment (docs/freeswitch-image.md). */
export function freeswitchImage(): string {
  return required(freeswitchImageLookup());
}

/** The config API's image, tagged by its build context's hash; built when missing. */
export async function apiImage(): Promise<string> {
  const context = buildApiImageContext(PROJECT_DIR);
  const image = `${API_IMAGE_REPO}:${context.tag}`;
  await ensureImage(image, async () => {
    await docker(
      "build",
      "--network",
      "host",
      "-q",
      "--build-arg",
      `BASE_IMAGE=${baseImageOnce()}`,
      "-t",
      image,
      context.dir,
    );
  });
  return image;
}
