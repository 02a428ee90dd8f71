/**
 * The public API of decoupling-lt: `import { … } from "decoupling-lt"` (package.json `exports` → dist/index.js).
 * The flow these names follow, and the module each one comes from, is drawn in docs/ARCHITECTURE.md.
 *
 * Names are listed one by one (no `export *`): internals of different modules share some names (two
 * `DEFAULT_CHUNK_ROWS`, two `cosineLr`), and what is listed here is what a user may rely on.
 */

// ---- tensor backend ---------------------------------------------------------------------------------------------
export { BACKEND_NAMES, backendInfo, findTensorflowPackage, initBackend, requestedBackend, type BackendInfo, type BackendName } from "./backend.js";
export { Registry } from "./registry.js";
export { Rng, type RngState } from "./rng.js";

// ---- configs ----------------------------------------------------------------------------------------------------
export { DEFAULTS, type ExperimentConfig, type Stage2Config, type TrainingOpt, type SamplerConfig, type DatasetConfig, type NetworkConfig, type OptimParams } from "./config/defaults.js";
export { applyOverride, configHash, dumpConfig, loadConfig, resolveConfig, type LoadedConfig } from "./config/load.js";
export { ConfigError } from "./config/schema.js";
export { isOriginalConfig, translateOriginalConfig } from "./config/original.js";

// ---- datasets ---------------------------------------------------------------------------------------------------
export { datasets, describeDataset } from "./data/registry.js";
export type { Batch, DataManifest, Dataset, Split } from "./data/types.js";
export type { DatasetArgs } from "./data/args.js";
export { longTailCounts, selectLongTail, indicesSha256, type ImbalanceProfile } from "./data/longtail.js";
export { NumpyRandomState } from "./data/numpy_random.js";
export { ArraySplit } from "./data/array_split.js";
export { FMNIST_CLASS_NAMES } from "./data/fashion_mnist.js";

// ---- samplers ---------------------------------------------------------------------------------------------------
export { samplers, type BatchSampler, type SamplerArgs } from "./samplers/registry.js";

// ---- models -----------------------------------------------------------------------------------------------------
export { backbones, type BackboneFactory } from "./models/backbones.js";
export { ResNet, RESNET_SPECS, type ResNetSpec } from "./models/resnet.js";
export { LinearClassifier, type LinearArgs } from "./models/linear.js";
export { countParams, modelWeights } from "./models/weights.js";
export type { Backbone, BackboneArgs, Classifier, Module, NamedVariables } from "./models/types.js";
export { HEADS, LwsHead, type HeadArgs } from "./train/heads.js";

// ---- stage-2 classifiers on features: Joint, NCM, τ-norm, cRT, LWS ------------------------------------------------
export { classifiers, type ClassifierEntry, type ClassifierRunArgs, type ClassifierRunResult, type Stage1Classifier } from "./classifiers/registry.js";
export { linearLogits, linearPredict, rowNorms } from "./classifiers/linear.js";
export { fitNcm, ncmLogits, ncmPredict, NCM_DISTS, NCM_FEAT_TYPES, type NcmArgs, type NcmDist, type NcmFeatType, type NcmModel } from "./classifiers/ncm.js";
export {
  DEFAULT_TAU_GRID,
  selectTau,
  tauNormPredict,
  tauNormWeight,
  tauScales,
  tauSweep,
  type TauChoice,
  type TauNormArgs,
  type TauSelectMetric,
  type TauSweep,
  type TauSweepRow,
} from "./classifiers/tau-norm.js";
export { trainCrt, type CrtArgs, type CrtEpochLog, type CrtOptions, type CrtResult } from "./classifiers/crt.js";
export { applyScales, trainLws, type LwsArgs, type LwsEpochLog, type LwsOptions, type LwsResult } from "./classifiers/lws.js";
export { cosineLr, type HeadEpochLog } from "./classifiers/train-utils.js";
export { GEMM_ENGINES, type GemmEngine } from "./classifiers/gemm.js";
export { linearWeightNorms, lwsWeightNorms, tauNormWeightNorms } from "./classifiers/weight-norms.js";

// ---- features ---------------------------------------------------------------------------------------------------
export { checkFeatureSet, classCounts, type FeatureSet } from "./features/types.js";
export { loadFeatureDir, loadFeatureDirWith, type FeatureDir } from "./features/dir.js";
export { readFeatures, writeFeatures, type FeatureMeta } from "./features/format.js";
export { importNpyFeatures, readNpy, writeNpy } from "./features/npy.js";
export { extractFeatures, formatProgress, progressPrinter, type ExtractArgs, type ExtractProgress, type ExtractResult } from "./features/extract.js";

// ---- metrics ----------------------------------------------------------------------------------------------------
export { evaluate, shotGroups, type EvalResult, type ShotConvention, type ShotGroup } from "./metrics.js";

// ---- training and runs ------------------------------------------------------------------------------------------
export { trainStage1, type Stage1Args, type Stage1Result } from "./train/stage1.js";
export { classifyRun, saveRunFeatures, trainStage2, type OnRunArgs, type Stage2Args, type Stage2Result } from "./train/stage2.js";
export { evalSummary, type EvalSummary } from "./train/report.js";
export { openRun, resolveRunDir, runName, runPaths, type OpenedRun, type RunPaths } from "./run/rundir.js";
export { inspectRun, assertFinishedStage1Run, type RunState } from "./run/state.js";
export { readManifest, projectRoot, type RunManifest, type RunStatus } from "./run/manifest.js";
export { loadCheckpoint, saveCheckpoint, type Checkpoint } from "./run/checkpoint.js";
export { readCheckedJson, writeCheckedJson } from "./run/checksum.js";
export { importOriginalCheckpoint, resolveModelDir } from "./torch/import_run.js";

// ---- plots ------------------------------------------------------------------------------------------------------
export type { PlotlyFigure, PlotlyTrace } from "./plot/types.js";
export {
  classCountFigure,
  samplerClassifierFigure,
  samplingFigure,
  seriesColour,
  shotBarsFigure,
  shotBoundaries,
  sortByCountDesc,
  tauSweepFigure,
  weightNormFigure,
  type ProbabilitySeries,
  type ShotRow,
} from "./plot/figures.js";
export { tauSliderHtml, tauSliderWidget } from "./plot/tau_slider.js";
export { FigureRenderer, saveFigure } from "./plot/render.js";
export { closeFigures, inTslab, showFigure, showTable, tableMarkdown, tableText } from "./plot/notebook.js";

// ---- the reproduction's notebook helpers (what notebooks/*.ipynb import) -----------------------------------------
export {
  assertOutputs,
  besidePaper,
  choiceTable,
  f1,
  loadFeatureFolder,
  missingFeatureFiles,
  notebookOutputDir,
  NotebookStop,
  openNotebook,
  PAPER_IMAGENET_LT,
  PAPER_TAU_SWEEP,
  recordsTable,
  roundRows,
  saveNotebookFigure,
  saveTable,
  showHtml,
  showMarkdown,
  shotRows,
  walkthrough,
  type ImportedFeatures,
  type NotebookContext,
  type PaperRow,
  type SweepPoint,
} from "./repro/notebook.js";
export { buildTables, collectCells } from "./repro/tables.js";
export { findings } from "./repro/findings.js";
export { CLASSIFIERS, PROFILES, SAMPLERS, getProfile, type Profile, type ProfileName } from "./repro/profiles.js";
export { figureData, writeIfChanged } from "./repro/report.js";
export { syntheticLongTail, type SyntheticLongTail, type SyntheticLongTailArgs } from "./repro/synthetic_features.js";
