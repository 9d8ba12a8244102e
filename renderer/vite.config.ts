/**
 * Builds the renderer into dist/renderer. No React plugin: Vite's own transform (oxc) compiles JSX with
 * React's automatic runtime, and there is no dev server to hot-reload. `base: './'` keeps asset URLs
 * relative so the same build loads from app://flashline (desktop) and from the station's HTTP root.
 */
import { defineConfig } from 'vite';

// import.meta.dirname (not node:path): this folder is the renderer's, where Node imports are banned.
const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: `${here}/../dist/renderer`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One JS and one CSS file; the CSP forbids inline code, so nothing may be inlined as a data: script.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
