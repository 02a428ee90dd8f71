/**
 * Resolve every config the project knows of and write the resolved configs, their hashes and their YAML dumps (or
 * the error each one raises) as one JSON file, so two checkouts can be compared: a change to the config code must
 * leave every resolved config, and so every config hash (the cached runs' folder names, docs/run-folders.md), as it
 * was.
 *
 *   cd CHECKOUT && node --import tsx /path/to/scripts/config-resolve-all.ts CHECKOUT OUT.json
 *   diff <(jq -S . a.json) <(jq -S . b.json)
 *
 * What is resolved: every config/**\/*.yaml as written; the reproduction's run plans (every profile, stage and seed:
 * the hashes in the cached run folders' names); the original code's 11 configs (test/original/original_configs.ts);
 * the resolved configs stored in results/**\/manifests.json (re-resolved as a run's config.yaml is, and reloaded
 * from their source file and overrides); a list of edge cases (sections filled from defaults, merges, overrides,
 * and invalid configs, whose messages are recorded).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";

type Rec = Record<string, unknown>;
const [root, out] = process.argv.slice(2);
if (!root || !out) throw new Error("usage: config-resolve-all.ts CHECKOUT OUT.json");
const mod = async (p: string): Promise<Rec> => (await import(pathToFileURL(join(root, p)).href)) as Rec;

const load = await mod("src/config/load.ts");
const defaults = await mod("src/config/defaults.ts");
const runs = await mod("src/repro/runs.ts");
const profiles = await mod("src/repro/profiles.ts");
const originals = await mod("test/original/original_configs.ts");

type Loaded = { config: Rec; hash: string };
const loadConfig = load.loadConfig as (f: string, o?: string[]) => Loaded;
const resolveConfig = load.resolveConfig as (raw: unknown, source: string, o?: string[]) => Loaded;
const configHash = load.configHash as (c: unknown) => string;
const dumpConfig = load.dumpConfig as (c: unknown) => string;

const result: Record<string, unknown> = {};
/** Record what `fn` resolves to (config, hash, its YAML dump with key order) or the message it fails with. */
function record(name: string, fn: () => Loaded): void {
  try {
    const l = fn();
    result[name] = { config: l.config, hash: l.hash, rehash: configHash(l.config), dump: dumpConfig(l.config) };
  } catch (e) {
    result[name] = { error: (e as Error).message };
  }
}

// The original configs print a notice on stderr; it is not what is compared.
process.stderr.write = (() => true) as typeof process.stderr.write;

const walk = (d: string): string[] =>
  readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));

for (const f of walk(join(root, "config"))
  .filter((f) => f.endsWith(".yaml"))
  .sort())
  record(`file ${relative(root, f)}`, () => loadConfig(relative(root, f)));

const PROFILES = profiles.PROFILES as Record<string, { seeds: number[] }>;
type Plan = { loaded: Loaded; dir: string };
const stage1Plan = runs.stage1Plan as (s: string, seed: number, p: unknown) => Plan;
const stage2Plan = runs.stage2Plan as (s: string, d: string, seed: number, p: unknown) => Plan;
for (const [pname, p] of Object.entries(PROFILES))
  for (const seed of [...p.seeds, 7])
    for (const s of profiles.SAMPLERS as { stage: string }[]) {
      const s1 = stage1Plan(s.stage, seed, p);
      record(`plan ${pname} ${s.stage} seed${seed} -> ${relative(root, s1.dir)}`, () => s1.loaded);
      for (const c of profiles.CLASSIFIERS as { stage: string }[]) {
        const s2 = stage2Plan(c.stage, s1.dir, seed, p);
        record(`plan ${pname} ${s.stage}/${c.stage} seed${seed} -> ${relative(root, s2.dir)}`, () => s2.loaded);
      }
    }

// A fixed folder, so the file names inside messages are the same for both checkouts.
const origDir = join(tmpdir(), "ltr-config-resolve-all");
const ORIGINAL_CONFIGS = originals.ORIGINAL_CONFIGS as Record<string, unknown>;
const originalYaml = originals.originalYaml as (n: string) => string;
for (const name of Object.keys(ORIGINAL_CONFIGS).sort()) {
  const f = join(origDir, name);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, originalYaml(name));
  record(`original ${name}`, () => loadConfig(f));
  record(`original ${name} --set`, () => loadConfig(f, ["training_opt.num_epochs=2", "dataset.root=/data/x"]));
}

for (const mf of walk(join(root, "results")).filter((f) => f.endsWith("manifests.json"))) {
  const list = JSON.parse(readFileSync(mf, "utf8")) as {
    run: string;
    config: Rec;
    config_hash: string;
    config_source: string;
    config_overrides: string[];
  }[];
  for (const m of list) {
    record(`manifest ${m.run} stored`, () => resolveConfig(structuredClone(m.config), "config.yaml"));
    result[`manifest ${m.run} stored hash`] = { recorded: m.config_hash, now: configHash(m.config) };
    record(`manifest ${m.run} reloaded`, () => loadConfig(m.config_source, m.config_overrides));
  }
}

const STAGE2_OK = { model_dir: "runs/x", networks: { feat_model: { fix: true } } };
const CASES: [string, unknown, string[]][] = [
  ["empty mapping", {}, []],
  ["sampler partial", { training_opt: { sampler: { type: "class_balanced" } } }, []],
  ["sampler reordered", { training_opt: { sampler: { q: 0.7, epochs: 12, type: "q_power" } } }, []],
  ["sampler null", { training_opt: { sampler: null } }, []],
  ["sampler via --set", {}, ["training_opt.sampler.type=square_root"]],
  ["sampler epochs via --set", {}, ["training_opt.sampler.epochs=90"]],
  ["sampler mapping via --set", {}, ["training_opt.sampler={type: q_power, q: 0.25}"]],
  [
    "sampler merge via --set",
    { training_opt: { sampler: { type: "class_balanced", num_samples_cls: 2 } } },
    ["training_opt.sampler={type: q_power}"],
  ],
  ["sampler null via --set", { training_opt: { sampler: { type: "class_balanced" } } }, ["training_opt.sampler=null"]],
  ["stage2 partial", { stage2: { method: "ncm" }, ...STAGE2_OK }, []],
  [
    "stage2 reordered",
    { stage2: { ncm: { dist: "cos" }, tau_grid: { step: 0.5 }, method: "tau_norm" }, ...STAGE2_OK },
    [],
  ],
  ["stage2 via --set", STAGE2_OK, ["stage2.method=lws", "stage2.tau_grid.stop=1"]],
  ["stage2 mapping via --set", STAGE2_OK, ["stage2={method: crt, input: images}"]],
  ["optim merge", { networks: { classifier: { optim_params: { lr: 0.2 } } } }, []],
  ["optim merge via --set", {}, ["networks.feat_model.optim_params={weight_decay: 0}"]],
  ["nullable strings", { dataset: { root: "/d", n_max: 300, train_list: "a.txt" } }, ["dataset.root=null"]],
  ["override types", {}, ["seed=3", "endlr=1e-4", "coslr=false", "backend=cpu", "dataset.profile=step"]],
  ["string from number-like", {}, ["training_opt.stage=0x10", "training_opt.log_dir=null"]],
  // Invalid ones: their messages are compared too (they may get better, not worse).
  ["bad: unknown keys", { training_opt: { batchsize: 64, warmup: 1 }, foo: 1 }, []],
  ["bad: types", { training_opt: { num_epochs: "ten" }, coslr: 1, seed: 1.5, dataset: { profile: "linear" } }, []],
  ["bad: ranges", { seed: -1, networks: { feat_model: { optim_params: { momentum: 2, lr: -1 } } } }, []],
  ["bad: tau step", { stage2: { tau_grid: { step: 0 } }, ...STAGE2_OK }, []],
  ["bad: null section", { networks: { feat_model: null } }, []],
  ["bad: list section", { dataset: [1, 2] }, []],
  ["bad: inf", { endlr: Number.POSITIVE_INFINITY, dataset: { imb_factor: Number.NaN } }, []],
  ["bad: nested unknown", { stage2: { ncm: { metric: "l2" } }, ...STAGE2_OK }, []],
  ["bad: set unknown", {}, ["training_opt.epochs=2"]],
  ["bad: set unknown top", {}, ["epochs=2"]],
  ["bad: set into scalar", {}, ["seed.x=2"]],
  ["bad: set type", {}, ["training_opt.num_epochs=two"]],
  ["bad: set two", {}, ["training_opt.stage=x training_opt.num_epochs=5"]],
  ["bad: set no =", {}, ["seed"]],
  ["bad: set sampler unknown", {}, ["training_opt.sampler={type: q_power, qq: 1}"]],
  ["bad: set enum", {}, ["stage2.input=disk"]],
  ["bad: cross stage2", { stage2: { method: "crt" } }, []],
  [
    "bad: cross sampler",
    { stage2: { method: "crt" }, ...STAGE2_OK, training_opt: { sampler: { type: "square_root" } } },
    [],
  ],
  ["bad: cross tau", { stage2: { method: "tau_norm", tau_grid: { start: 3 } }, ...STAGE2_OK }, []],
  ["bad: fraction below range", { seed: -1.5 }, []],
  ["bad: huge integer", { seed: 1e20 }, []],
  ["bad: optional set null", {}, ["training_opt.sampler.epochs=null"]],
  ["bad: date for a string", { training_opt: { stage: new Date(0) } }, []],
  ["bad: date for a mapping", { dataset: new Date(0) }, []],
  ["bad: not a mapping", [1, 2], []],
  ["bad: empty", null, []],
];
for (const [name, raw, overrides] of CASES) record(`case ${name}`, () => resolveConfig(raw, "case.yaml", overrides));

result.DEFAULTS = {
  config: defaults.DEFAULTS,
  hash: configHash(defaults.DEFAULTS),
  dump: dumpConfig(defaults.DEFAULTS),
};
writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
console.log(`${Object.keys(result).length} entries -> ${out}`);
