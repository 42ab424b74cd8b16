// The import rules of src/ (run by `npm run lint`): no import cycle between modules or between
// folders, and imports go one way down the layers below, never up. Imports within a layer are
// allowed as long as they make no cycle. docs/architecture.md explains the layers.

/** From the top (composition, entry points) to the bottom (leaf utilities). */
const LAYERS = [
  { name: 'entry', paths: ['^src/cli/', '^src/server\\.ts$'] },
  { name: 'composition', paths: ['^src/gateway\\.ts$', '^src/services\\.ts$'] },
  { name: 'application', paths: ['^src/app\\.ts$', '^src/admin/', '^src/console/', '^src/ops/'] },
  { name: 'pipeline', paths: ['^src/pipeline/'] },
  {
    name: 'concerns',
    paths: ['^src/auth/', '^src/rbac/', '^src/masking/', '^src/proxy/', '^src/audit/', '^src/tls/', '^src/quotas/', '^src/fleet/', '^src/detection/']
  },
  { name: 'foundations', paths: ['^src/ollama/', '^src/store/', '^src/cluster-state/', '^src/config/'] },
  { name: 'leaves', paths: ['^src/errors\\.ts$', '^src/clock\\.ts$', '^src/canonical-json\\.ts$'] }
]

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.name}`,
  severity: 'error',
  comment: `${layer.name} must not import a higher layer (${LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')})`,
  from: { path: layer.paths },
  to: { path: LAYERS.slice(0, i + 1).flatMap((l) => l.paths) }
}))

export default {
  forbidden: [
    {
      name: 'no-module-cycle',
      severity: 'error',
      comment: 'modules import each other in a cycle',
      from: {},
      to: { circular: true }
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'folders import each other in a cycle',
      scope: 'folder',
      from: {},
      to: { circular: true }
    },
    {
      name: 'in-a-layer',
      severity: 'error',
      comment: 'every module of src/ belongs to a layer: add its path to LAYERS in .dependency-cruiser.mjs',
      from: { path: '^src/', pathNot: LAYERS.flatMap((l) => l.paths) },
      to: {}
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true }
    },
    ...upward
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    // type-only imports count: a cycle of types is still a cycle
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] }
  }
}
