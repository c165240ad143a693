// The layer rules of the house (STYLE.md), enforced: the rules in .dependency-cruiser.js, plus "no cycles
// between the top-level folders under src/", which this script computes itself (dependency-cruiser's
// folder rules cannot leave out the data layer's imports of entities). Any violation fails: there is no
// baseline of accepted ones (the last entry of the one used while issue 10 moved SQL into repositories
// was removed with it).
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.js'));

/** Edges from these folders do not count towards folder cycles: rule lower-layer-imports-feature polices them. */
const LOWER_LAYERS = /^src\/(common|config|database)\//;
const FOLDER_CYCLE = {
  name: 'folder-cycle',
  severity: 'error',
  comment:
    'Two top-level folders under src/ import each other (directly or round a cycle). Layers only point ' +
    'down: move the shared piece to the lower folder or to common/, or invert the dependency.',
};

/** node_modules/typeorm/index.d.ts → typeorm; a file under src/ stays as it is. */
const shortName = (path) => path.replace(/^node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$1');

/** src/calls/dial/dial.service.ts → src/calls; src/main.ts → src (the app's wiring). */
function topFolder(path) {
  const parts = path.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Every import between two top-level folders of src/ that lie on a cycle, one violation per folder pair. */
function folderCycles(modules) {
  const edges = new Map(); // "from|to" → an example import
  for (const module of modules) {
    if (!module.source.startsWith('src/') || LOWER_LAYERS.test(module.source)) continue;
    for (const dependency of module.dependencies) {
      if (!dependency.resolved.startsWith('src/')) continue;
      const from = topFolder(module.source);
      const to = topFolder(dependency.resolved);
      if (from === to) continue;
      const edge = `${from}|${to}`;
      if (!edges.has(edge)) edges.set(edge, `${module.source} → ${dependency.resolved}`);
    }
  }
  const next = new Map();
  for (const edge of edges.keys()) {
    const [from, to] = edge.split('|');
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const reaches = (start, goal) => {
    const seen = new Set();
    const stack = [start];
    while (stack.length > 0) {
      const folder = stack.pop();
      if (folder === goal) return true;
      if (seen.has(folder)) continue;
      seen.add(folder);
      stack.push(...(next.get(folder) ?? []));
    }
    return false;
  };
  return [...edges]
    .filter(([edge]) => {
      const [from, to] = edge.split('|');
      return reaches(to, from);
    })
    .map(([edge, example]) => {
      const [from, to] = edge.split('|');
      return { type: 'cycle', from, to, rule: { name: FOLDER_CYCLE.name, severity: 'error' }, example };
    });
}

async function violations() {
  const { output } = await cruise(
    ['src'],
    { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } },
    undefined,
    { tsConfig: extractTSConfig(join(ROOT, 'tsconfig.json')) },
  );
  const moduleViolations = output.summary.violations.map((v) => ({
    type: v.type,
    from: v.from,
    to: v.to,
    rule: { name: v.rule.name, severity: v.rule.severity },
  }));
  return [...moduleViolations, ...folderCycles(output.modules)];
}

/** The violations, grouped by rule: the rule's reason (how to fix) once, then each import. */
function explain(list) {
  const byRule = new Map();
  for (const v of list) byRule.set(v.rule.name, [...(byRule.get(v.rule.name) ?? []), v]);
  return [...byRule]
    .map(([name, group]) => {
      const rule = config.forbidden.find((r) => r.name === name) ?? FOLDER_CYCLE;
      const lines = group.map((v) => {
        const via = v.example ? `   (e.g. ${v.example})` : '';
        return `    ${v.from} → ${shortName(v.to)}${via}`;
      });
      return `  ✗ ${name}: ${rule.comment}
${lines.join('\n')}`;
    })
    .join('\n');
}

const found = await violations();
if (found.length > 0) {
  console.error(
    `check-layers: ${found.length} import(s) break the layer rules (STYLE.md "The house"; the rules and ` +
      'their reasons are in .dependency-cruiser.js):\n' +
      explain(found),
  );
  process.exit(1);
}
console.error('check-layers: ok');
