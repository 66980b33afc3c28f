/**
 * The console's build: one entry (index.html), code split by route so the sign-in and overview
 * pages load only the shell; the YAML editor (CodeMirror) and the terminal (xterm) are dynamic
 * imports. Output goes to dist/, which the platform front serves (packages/platform/src/console-assets.ts).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The platform front serves files with content hashes as immutable; keep every hashed file under assets/.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1024,
  },
});
