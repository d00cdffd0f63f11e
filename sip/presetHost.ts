/**
 * The preset host: the production host this project replaces, whose addresses `npm start` renders
 * with when a stack names none (host.previewAddresses). Beside the provider presets as data, and a
 * leaf module: the schema takes its default from here, and nothing here imports the schema.
 */
export const REPLACED_HOST_ADDRESSES = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" } as const;
