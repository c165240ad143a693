// @ts-check
// The house's layer rules (STYLE.md "The house", "State has one owner"), checked by `npm run check`
// through scripts/check-layers.mjs, which also checks that no two top-level folders under src/ import
// each other (round a cycle). Each rule's comment is what a failing check prints: say how to fix it.
//
// Any violation fails the check: fix the import, never the rule, unless the house itself changes
// (then change STYLE.md, docs/architecture.md and the rule together).

/** The data layer: the only files that may hold SQL, TypeORM query APIs, pg and per-tick batching. */
const DATA_LAYER = ['\\.repository\\.ts$', '^src/database/'];
/** Entities may import TypeORM's decorators; modules TypeOrmModule (@nestjs/typeorm). */
const ENTITIES = '\\.entity\\.ts$';
const MODULES = '\\.module\\.ts$';
const LOWER_LAYERS = '^src/(common|config|database)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lower-layer-imports-feature',
      severity: 'error',
      comment:
        'common/, config/ and database/ are the layers features stand on: they never import a feature folder ' +
        '(or app.module). Move what they need down, or invert the dependency (the feature registers itself). ' +
        'database/ may import entities: they are the schema its data source and migrations map.',
      from: { path: LOWER_LAYERS },
      to: { path: '^src/', pathNot: [LOWER_LAYERS, ENTITIES] },
    },
    {
      name: 'config-imports-upward',
      severity: 'error',
      comment: 'config/ is the lowest layer: it imports nothing else from src/.',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/config/' },
    },
    {
      name: 'common-imports-database',
      severity: 'error',
      comment:
        'common/ sits below database/ (config → common → database → features): move the piece into database/.',
      from: { path: '^src/common/' },
      to: { path: '^src/database/' },
    },
    {
      name: 'controller-imports-repository',
      severity: 'error',
      comment: 'Controllers call one service; only services (and other repositories) use repositories.',
      from: { path: '\\.controller\\.ts$' },
      to: { path: '\\.repository\\.ts$' },
    },
    {
      name: 'sql-outside-data-layer',
      severity: 'error',
      comment:
        'Only *.repository.ts and src/database/** run SQL (runSql/statement from src/database/sql). A service ' +
        'may `import type { Tx }` from it (type-only) to pass a transaction along.',
      from: { pathNot: DATA_LAYER },
      to: { path: '^src/database/sql\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'typeorm-outside-data-layer',
      severity: 'error',
      comment:
        'TypeORM (DataSource, EntityManager, Repository, QueryBuilder, even as types) belongs to *.repository.ts ' +
        'and src/database/**; entities may use its decorators. Ask a repository in domain verbs instead.',
      from: { pathNot: [...DATA_LAYER, ENTITIES] },
      to: { path: '^node_modules/typeorm/' },
    },
    {
      name: 'nestjs-typeorm-outside-data-layer',
      severity: 'error',
      comment:
        '@nestjs/typeorm (@InjectRepository, @InjectDataSource) belongs to *.repository.ts and src/database/**; ' +
        'modules may import TypeOrmModule.',
      from: { pathNot: [...DATA_LAYER, MODULES] },
      to: { path: '^node_modules/@nestjs/typeorm/' },
    },
    {
      name: 'pg-outside-data-layer',
      severity: 'error',
      comment: 'The pg driver belongs to src/database/** and *.repository.ts.',
      from: { pathNot: DATA_LAYER },
      to: { path: '^node_modules/(@types/)?pg/' },
    },
    {
      name: 'batching-outside-data-layer',
      severity: 'error',
      comment:
        "Per-tick batching (batchPerTick) is the data layer's private business: call a repository method.",
      from: { pathNot: DATA_LAYER },
      to: { path: '^src/database/batch-per-tick' },
    },
    {
      name: 'src-imports-tools',
      severity: 'error',
      comment: 'tools/ (the Ultravox simulator) is a development and test tool, never imported by src/.',
      from: { path: '^src/' },
      to: { path: '^tools/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // A worktree whose node_modules is a symlink must resolve packages to node_modules/…, as a clone does.
    preserveSymlinks: true,
    // Type-only imports are dependencies too (they are how a service may know Tx and nothing else).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
