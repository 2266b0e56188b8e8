/**
 * The layer rules, checked by `npm run check:layers` (part of `npm test`): built from the
 * arrows declared in layers/layer-graph.cjs, plus the rules that hold for every layer.
 *
 * A layer is a folder `layers/<name>`; its public surface is `layers/<name>/src/index.ts`.
 * Production code (layers, functions, infra, cli) imports another layer only through that
 * index, and only along an arrow below. Tests may reach into a layer's internals (they test
 * them) but not around the testing entry rule.
 */

const { LAYERS, ENTRIES, SECONDARY_ENTRIES } = require('./layers/layer-graph.cjs');

/** The files another layer may import: each layer's index.ts and its declared secondary entries. */
const PUBLIC_ENTRIES = [
  '^layers/[^/]+/src/index\\.ts$',
  ...Object.entries(SECONDARY_ENTRIES).flatMap(([layer, names]) => names.map((name) => `^layers/${layer}/src/${name}\\.ts$`)),
];

const anyOf = (names) => (names.length === 0 ? '(?!)' : `(?:${names.join('|')})`);

/** A layer importing a layer it has no arrow to. */
function layerRule(layer, allowed) {
  return {
    name: `layer-${layer}`,
    comment: `layers/${layer} may import only ${allowed.length ? allowed.join(', ') : 'itself'} (.dependency-cruiser.cjs).`,
    severity: 'error',
    from: { path: `^layers/${layer}/src/` },
    to: { path: '^layers/[^/]+/', pathNot: `^layers/${anyOf([layer, ...allowed])}/` },
  };
}

function entryRule(entry, allowed) {
  return {
    name: `entry-${entry}`,
    comment: `${entry}/ may import only the layers ${allowed.join(', ')} (.dependency-cruiser.cjs).`,
    severity: 'error',
    from: { path: `^${entry}/` },
    to: { path: '^layers/[^/]+/', pathNot: `^layers/${anyOf(allowed)}/` },
  };
}

module.exports = {
  forbidden: [
    ...Object.entries(LAYERS).map(([layer, allowed]) => layerRule(layer, allowed)),
    ...Object.entries(ENTRIES).map(([entry, allowed]) => entryRule(entry, allowed)),
    {
      name: 'deep-import-between-layers',
      comment: "Import another layer through its index (`../../storage/src`), not its internals: a layer's public surface is its index.ts.",
      severity: 'error',
      from: { path: '^layers/([^/]+)/' },
      to: { path: '^layers/[^/]+/', pathNot: ['^layers/$1/', ...PUBLIC_ENTRIES] },
    },
    {
      name: 'deep-import-from-entries',
      comment: "functions/, infra/ and cli/ import a layer through its index (`layers/cloud/src`), not its internals.",
      severity: 'error',
      from: { path: '^(functions|infra|cli)/' },
      to: { path: '^layers/[^/]+/', pathNot: PUBLIC_ENTRIES },
    },
    {
      name: 'core-is-pure',
      comment: 'The core decides what an episode means: it imports only itself and zod (no AWS, tfjs or Node I/O).',
      severity: 'error',
      from: { path: '^layers/core/' },
      to: { dependencyTypesNot: ['local'], pathNot: '^node_modules/zod/' },
    },
    {
      name: 'no-cycles',
      comment: 'Data flows downward: no import cycles.',
      severity: 'error',
      from: { path: '^(layers|functions|infra|cli)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'] },
  },
};
