import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The suite with a per-file cost line (CPU, wall, claude sessions) appended to $CT_PROFILE_OUT: see
// test/support/profile-setup.ts. `npx vitest run --config vitest.profile.config.ts`.
export default mergeConfig(base, defineConfig({ test: { setupFiles: ['test/support/profile-setup.ts'] } }));
