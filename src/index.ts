/**
 * The public API of decoupling-lt: `import { … } from "decoupling-lt"` (package.json `exports` → dist/index.js).
 * The flow these names follow, and the module each one comes from, is drawn in docs/ARCHITECTURE.md.
 *
 * Names are listed one by one (no `export *`): internals of different modules share some names (two
 * `DEFAULT_CHUNK_ROWS`, two `cosineLr`), and what is listed here is what a user may rely on.
 */

// ---- tensor backend ---------------------------------------------------------------------------------------------
export {
  BACKEND_NAMES,
  type BackendInfo,
  type BackendName,
  backendInfo,
  findTensorflowPackage,
  initBackend,
  requestedBackend,
} from "./backend.js";
export { type CrtArgs, type CrtEpochLog, type CrtOptions, type CrtResult, trainCrt } from "./classifiers/crt.js";
export { GEMM_ENGINES, type GemmEngine } from "./classifiers/gemm.js";
export { linearLogits, linearPredict, rowNorms } from "./classifiers/linear.js";
export {
  applyScales,
  type LwsArgs,
  type LwsEpochLog,
  type LwsOptions,
  type LwsResult,
  trainLws,
} from "./classifiers/lws.js";
export {
  fitNcm,
  NCM_DISTS,
  NCM_FEAT_TYPES,
  type NcmArgs,
  type NcmDist,
  type NcmFeatType,
  type NcmModel,
  ncmLogits,
  ncmPredict,
} from "./classifiers/ncm.js";
// ---- stage-2 classifiers on features: Joint, NCM, τ-norm, cRT, LWS ------------------------------------------------
export type { OptionKind, OptionSchema, OptionSpec } from "./classifiers/options.js";
export {
  CLASSIFIER_METHODS,
  type ClassifierEntry,
  type ClassifierMethod,
  type ClassifierRunArgs,
  type ClassifierRunResult,
  classifierMethods,
  classifiers,
  type ImagesHead,
  type MethodPlotStyle,
  methodLabel,
  methodStage,
  type Stage1Classifier,
} from "./classifiers/registry.js";
export {
  DEFAULT_TAU_GRID,
  selectTau,
  type TauChoice,
  type TauNormArgs,
  type TauSelectMetric,
  type TauSweep,
  type TauSweepRow,
  tauGrid,
  tauNormPredict,
  tauNormWeight,
  tauScales,
  tauSweep,
} from "./classifiers/tau-norm.js";
export type { HeadEpochLog } from "./classifiers/train-utils.js";
export { linearWeightNorms, lwsWeightNorms, tauNormWeightNorms } from "./classifiers/weight-norms.js";
// ---- configs ----------------------------------------------------------------------------------------------------
export {
  type DatasetConfig,
  DEFAULTS,
  type ExperimentConfig,
  type NetworkConfig,
  type OptimParams,
  type SamplerConfig,
  type Stage2Config,
  type TrainingOpt,
} from "./config/defaults.js";
export { applyOverride, configHash, dumpConfig, type LoadedConfig, loadConfig, resolveConfig } from "./config/load.js";
export { isOriginalConfig, translateOriginalConfig } from "./config/original.js";
export { ConfigError } from "./config/schema.js";
export type { DatasetArgs } from "./data/args.js";
export { ArraySplit } from "./data/array_split.js";
export { FMNIST_CLASS_NAMES } from "./data/fashion_mnist.js";
export { type ImbalanceProfile, indicesSha256, longTailCounts, selectLongTail } from "./data/longtail.js";
export { NumpyRandomState } from "./data/numpy_random.js";
// ---- datasets ---------------------------------------------------------------------------------------------------
export { datasets, describeDataset } from "./data/registry.js";
export type { Batch, DataManifest, Dataset, Split } from "./data/types.js";
export { type FeatureDir, loadFeatureDir, loadFeatureDirWith } from "./features/dir.js";
export {
  type ExtractArgs,
  type ExtractProgress,
  type ExtractResult,
  extractFeatures,
  formatProgress,
  progressPrinter,
} from "./features/extract.js";
export { type FeatureMeta, readFeatures, writeFeatures } from "./features/format.js";
export { importNpyFeatures, readNpy, writeNpy } from "./features/npy.js";
// ---- features ---------------------------------------------------------------------------------------------------
export { checkFeatureSet, classCounts, type FeatureSet } from "./features/types.js";
// ---- metrics ----------------------------------------------------------------------------------------------------
export { type EvalResult, evaluate, type ShotConvention, type ShotGroup, shotGroups } from "./metrics.js";
// ---- models -----------------------------------------------------------------------------------------------------
export { type BackboneFactory, backbones } from "./models/backbones.js";
export { type LinearArgs, LinearClassifier } from "./models/linear.js";
export { RESNET_SPECS, ResNet, type ResNetSpec } from "./models/resnet.js";
export type { Backbone, BackboneArgs, Classifier, Module, NamedVariables } from "./models/types.js";
export { countParams, modelWeights } from "./models/weights.js";
export {
  classCountFigure,
  type ProbabilitySeries,
  type ShotRow,
  samplerClassifierFigure,
  samplingFigure,
  seriesColour,
  shotBarsFigure,
  shotBoundaries,
  sortByCountDesc,
  tauSweepFigure,
  weightNormFigure,
} from "./plot/figures.js";
export { closeFigures, inTslab, showFigure, showTable, tableMarkdown, tableText } from "./plot/notebook.js";
export { FigureRenderer, saveFigure } from "./plot/render.js";
export { tauSliderHtml, tauSliderWidget } from "./plot/tau_slider.js";
// ---- plots ------------------------------------------------------------------------------------------------------
export type { PlotlyFigure, PlotlyTrace } from "./plot/types.js";
export { Registry } from "./registry.js";
export { findings } from "./repro/findings.js";
// ---- the reproduction's notebook helpers (what notebooks/*.ipynb import) -----------------------------------------
export {
  assertOutputs,
  besidePaper,
  choiceTable,
  f1,
  type ImportedFeatures,
  loadFeatureFolder,
  missingFeatureFiles,
  type NotebookContext,
  NotebookStop,
  notebookOutputDir,
  openNotebook,
  PAPER_IMAGENET_LT,
  PAPER_TAU_SWEEP,
  type PaperRow,
  recordsTable,
  roundRows,
  type SweepPoint,
  saveNotebookFigure,
  saveTable,
  shotRows,
  showHtml,
  showMarkdown,
  walkthrough,
} from "./repro/notebook.js";
export { CLASSIFIERS, getProfile, PROFILES, type Profile, type ProfileName, SAMPLERS } from "./repro/profiles.js";
export { figureData, writeIfChanged } from "./repro/report.js";
export { type SyntheticLongTail, type SyntheticLongTailArgs, syntheticLongTail } from "./repro/synthetic_features.js";
export { buildTables, collectCells } from "./repro/tables.js";
export { Rng, type RngState } from "./rng.js";
export { type Checkpoint, loadCheckpoint, saveCheckpoint } from "./run/checkpoint.js";
export { readCheckedJson, writeCheckedJson } from "./run/checksum.js";
export { projectRoot, type RunManifest, type RunStatus, readManifest } from "./run/manifest.js";
export { type OpenedRun, openRun, type RunPaths, resolveRunDir, runName, runPaths } from "./run/rundir.js";
export { assertFinishedStage1Run, inspectRun, type RunState } from "./run/state.js";
// ---- samplers ---------------------------------------------------------------------------------------------------
export { type BatchSampler, type SamplerArgs, samplers } from "./samplers/registry.js";
export { cosineLr, cosineLrShifted } from "./schedule.js";
export { importOriginalCheckpoint, resolveModelDir } from "./torch/import_run.js";
export { HEADS, type HeadArgs, LwsHead } from "./train/heads.js";
export { type EvalSummary, evalSummary } from "./train/report.js";
// ---- training and runs ------------------------------------------------------------------------------------------
export { type Stage1Args, type Stage1Result, trainStage1 } from "./train/stage1.js";
export {
  classifyRun,
  type OnRunArgs,
  type Stage2Args,
  type Stage2Result,
  saveRunFeatures,
  trainStage2,
} from "./train/stage2.js";
