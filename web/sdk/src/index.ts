// Aegis browser SDK entry point: `import { createClient } from '/sdk/aegis.js'`.

import { Client, SDK_VERSION as VERSION } from './client.js';
import type { AegisClient, ClientOptions } from './types.js';

export * from './types.js';

/** Version of this SDK build (also sent to the server as `sdkVersion`). */
export const SDK_VERSION: string = VERSION;

/**
 * Creates a client. One client joins one room at a time; after `leave()` (or a
 * kick) it can `join()` again.
 */
export function createClient(options: ClientOptions = {}): AegisClient {
  return new Client(options);
}
