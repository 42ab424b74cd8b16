// Builds the web console (console/src) into dist/console/assets: one JS bundle, one CSS file and
// index.html, nothing loaded from anywhere else. Run by `npm run build`.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

const here = import.meta.dirname
const out = join(here, '..', 'dist', 'console', 'assets')
mkdirSync(out, { recursive: true })
await build({
  entryPoints: { app: join(here, 'src', 'main.tsx'), style: join(here, 'src', 'style.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  legalComments: 'none',
  logLevel: 'warning'
})
for (const f of ['index.html', 'favicon.svg']) copyFileSync(join(here, f), join(out, f))
