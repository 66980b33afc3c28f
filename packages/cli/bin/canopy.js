#!/usr/bin/env node
// The built CLI lives in dist/; `npm run build` (run by `npm start` and `npm test`) produces it.
import('../dist/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    console.error('canopy: not built yet; run `npm run build` from the repository root');
  } else {
    console.error(err);
  }
  process.exit(1);
});
