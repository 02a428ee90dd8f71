/**
 * The epoch loop shared by stage 1 (backbone + classifier trained jointly) and the images mode of stage 2
 * (frozen backbone, cRT or LWS head): cosine lr per epoch, ⌊N/B⌋ sampled batches, SGD, evaluation on val
 * after every epoch, best-on-val weights kept, a resumable checkpoint written atomically after every epoch.
 *
 * best.ckpt holds the same full state as latest.ckpt at the best epoch (weights, momentum, sampler, RNG), so a
 * run can also continue from it; it is only ever replaced by a better checkpoint of the same run (run id and val
 * top-1 checked, the new file verified before the rename). Every step's loss is checked for divergence
 * (divergence.ts); a SIGINT/SIGTERM while other code owns the signal stops the run after the current step.
 */
import * as tf from "@tensorflow/tfjs";
import type { ExperimentConfig } from "../config/defaults.js";
import type { Dataset } from "../data/types.js";
import { type EvalResult, evaluate } from "../metrics.js";
import type { Backbone, Classifier } from "../models/types.js";
import type { RngState } from "../rng.js";
import { Rng } from "../rng.js";
import { type Checkpoint, readCheckpointMeta, saveCheckpoint, type TensorData } from "../run/checkpoint.js";
import { faultPoint } from "../run/faults.js";
import type { OpenedRun } from "../run/rundir.js";
import { interruptRequested, yieldToEventLoop } from "../run/signals.js";
import type { BatchSampler } from "../samplers/types.js";
import { cosineLr } from "../schedule.js";
import { DivergenceError, divergenceReason } from "./divergence.js";
import { runPass } from "./evaluate.js";
import { Progress } from "./progress.js";
import { evalSummary } from "./report.js";
import { Sgd } from "./sgd.js";
import { exportMap, exportVariables, importVariables, tensorsUnder } from "./state.js";

export interface LoopArgs {
  cfg: ExperimentConfig;
  dataset: Dataset;
  backbone: Backbone;
  head: Classifier;
  /** Train the backbone (stage 1) or keep it frozen (stage 2). */
  trainBackbone: boolean;
  /** Frozen backbone only: BatchNorm in train mode (batch stats, running stats keep updating, as the original
   *  code) or eval mode. Ignored when the backbone trains (always train mode then). */
  frozenBnMode: "train" | "eval";
  sampler: BatchSampler;
  run: OpenedRun;
  /** Silence the progress bar (tests). */
  quiet?: boolean;
  /** Stop (as if interrupted) after this many epochs of this process, once the checkpoint is written. */
  stopAfterEpochs?: number;
}

export { DivergenceError } from "./divergence.js";

/** Thrown by `stopAfterEpochs` or a signal: the run is left resumable, exactly as after a Ctrl-C between epochs. */
export class InterruptedRun extends Error {
  constructor(
    readonly epoch: number,
    signal?: string,
  ) {
    super(
      signal
        ? `run stopped by ${signal} during epoch ${epoch + 1}; continue it with --resume`
        : `run stopped after epoch ${epoch + 1}; continue it with --resume`,
    );
    this.name = "InterruptedRun";
  }
}

export interface EpochRecord {
  epoch: number;
  lr: Record<string, number>;
  train_loss: number;
  train_acc: number;
  val: EvalResult;
  images_per_s: number;
  seconds: number;
}

export interface LoopResult {
  bestEpoch: number;
  bestVal: EvalResult;
  history: EpochRecord[];
  /** Mean training images/s over the epochs run in this process. */
  imagesPerSecond: number;
}

/** Metadata of latest.ckpt and best.ckpt (both are full resumable states). */
interface LatestMeta {
  epoch: number;
  bestEpoch: number;
  bestAcc: number;
  samplerState: unknown;
  rngState: RngState;
  history: EpochRecord[];
  /** The run this state belongs to (manifest run_id). */
  run_id?: string;
  /** Val top-1 (0..1) of this epoch's weights: best.ckpt is only replaced by a higher one. */
  val_top1?: number;
}

/**
 * Replace best.ckpt — only with a better checkpoint of the same run: the current file's run id must be this run's
 * and its val top-1 lower than the new one; the new file is verified before it replaces the old (saveCheckpoint).
 */
function saveBest(run: OpenedRun, ck: Checkpoint<LatestMeta>): void {
  const path = run.paths.best;
  const prev = readCheckpointMeta<LatestMeta>(path);
  if (prev) {
    if (prev.run_id && prev.run_id !== run.runId)
      throw new Error(
        `refusing to replace ${path}: it belongs to another run (run id ${prev.run_id}, this run is ${run.runId}); nothing was overwritten. Train in a new folder (--run-dir).`,
      );
    if (typeof prev.val_top1 === "number" && !(ck.meta.val_top1! > prev.val_top1))
      throw new Error(
        `refusing to replace ${path} (val top-1 ${prev.val_top1}) with a checkpoint that is not better (val top-1 ${ck.meta.val_top1}); nothing was overwritten`,
      );
  }
  saveCheckpoint(path, ck);
}

function weightsOf(a: LoopArgs): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  exportVariables(a.backbone.trainable(), "feat_model.", out);
  exportVariables(a.backbone.buffers(), "feat_model.", out);
  exportVariables(a.head.trainable(), "classifier.", out);
  exportVariables(a.head.buffers(), "classifier.", out);
  return out;
}

/** Load backbone and head weights from a checkpoint written by this loop (best.ckpt or latest.ckpt). */
export function loadWeights(
  backbone: Backbone | null,
  head: Classifier | null,
  ck: Checkpoint<unknown>,
  source: string,
): void {
  if (backbone) {
    importVariables(backbone.trainable(), "feat_model.", ck.tensors, source);
    importVariables(backbone.buffers(), "feat_model.", ck.tensors, source);
  }
  if (head) {
    importVariables(head.trainable(), "classifier.", ck.tensors, source);
    importVariables(head.buffers(), "classifier.", ck.tensors, source);
  }
}

export async function trainLoop(a: LoopArgs): Promise<LoopResult> {
  const { cfg, dataset, backbone, head, sampler, run } = a;
  const E = cfg.training_opt.num_epochs;
  const fm = cfg.networks.feat_model.optim_params;
  const cl = cfg.networks.classifier.optim_params;
  const groups = [
    {
      name: "classifier",
      params: head.trainable(),
      args: { lr: cl.lr, momentum: cl.momentum, weightDecay: cl.weight_decay },
    },
  ];
  if (a.trainBackbone)
    groups.unshift({
      name: "feat_model",
      params: backbone.trainable(),
      args: { lr: fm.lr, momentum: fm.momentum, weightDecay: fm.weight_decay },
    });
  const baseLr: Record<string, number> = Object.fromEntries(groups.map((g) => [g.name, g.args.lr]));
  const opt = new Sgd(groups);
  const varList = groups.flatMap((g) => [...g.params.values()]);
  const rng = new Rng(cfg.seed).fork(0xa06);

  let startEpoch = 0;
  let bestEpoch = -1;
  let bestAcc = -1;
  let bestVal: EvalResult | null = null;
  const history: EpochRecord[] = [];

  // The last checkpoint on disk (named when the run diverges), as [path, epoch].
  let lastGood: { path: string; epoch: number } | null = null;
  if (run.resumed && run.resumeCheckpoint) {
    const ck = run.resumeCheckpoint as unknown as Checkpoint<LatestMeta>;
    loadWeights(backbone, head, ck, run.resumeFrom ?? run.paths.latest);
    const st = tensorsUnder(ck.tensors, "optim.");
    opt.loadState(st);
    st.forEach((t) => t.dispose());
    sampler.setState(ck.meta.samplerState);
    rng.setState(ck.meta.rngState);
    startEpoch = ck.meta.epoch + 1;
    bestEpoch = ck.meta.bestEpoch;
    bestAcc = ck.meta.bestAcc;
    history.push(...ck.meta.history);
    bestVal = history.find((h) => h.epoch === bestEpoch)?.val ?? null;
    lastGood = { path: run.resumeFrom ?? run.paths.latest, epoch: ck.meta.epoch };
    run.logger.log("info", {
      message: "resumed",
      from_epoch: startEpoch,
      ...(Object.keys(run.changes).length ? { changed: run.changes } : {}),
    });
  }

  const steps = sampler.stepsPerEpoch();
  if (steps < 1)
    throw new Error(
      `training_opt.batch_size=${cfg.training_opt.batch_size} exceeds the ${dataset.train.size} training images: no full batch per epoch`,
    );
  const progress = new Progress({
    totalSteps: E * steps,
    doneSteps: startEpoch * steps,
    every: Math.max(1, cfg.training_opt.display_step * 5),
    quiet: a.quiet,
  });
  const bnTrain = a.trainBackbone || a.frozenBnMode === "train";
  const numClasses = dataset.numClasses;
  let ipsSum = 0;
  let ipsN = 0;

  try {
    for (let epoch = startEpoch; epoch < E; epoch++) {
      const t0 = Date.now();
      const lr: Record<string, number> = {};
      for (const g of Object.keys(baseLr)) {
        lr[g] = cfg.coslr ? cosineLr(baseLr[g], epoch, E, cfg.endlr) : baseLr[g];
        opt.setLr(g, lr[g]);
      }
      const batches = sampler.epoch(epoch);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let next = dataset.train.loadBatch(batches[0], { augment: true, rng });
      for (let s = 0; s < batches.length; s++) {
        const b = await next;
        if (s + 1 < batches.length) next = dataset.train.loadBatch(batches[s + 1], { augment: true, rng });
        const stats = tf.tidy(() => {
          const x = tf.tensor4d(b.x, b.shape);
          const y = tf.oneHot(tf.tensor1d(b.labels, "int32"), numClasses);
          // A frozen backbone runs outside the gradient tape: no backward pass through it at all.
          const frozenFeat = a.trainBackbone ? null : backbone.apply(x, bnTrain);
          let logitsKept: tf.Tensor | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const feat = frozenFeat ?? backbone.apply(x, true);
            const logits = head.apply(feat);
            logitsKept = tf.keep(logits);
            return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
          }, varList);
          opt.step(grads);
          const hit = tf.sum(tf.cast(tf.equal(tf.argMax(logitsKept!, 1), tf.tensor1d(b.labels, "int32")), "float32"));
          // tf.keep exempts the logits from every tidy scope, so they must be freed by hand.
          (logitsKept as tf.Tensor | null)?.dispose();
          return tf.stack([value, hit]);
        });
        const [loss, hit] = stats.dataSync();
        stats.dispose();
        const diverged = divergenceReason(loss, numClasses);
        if (diverged) throw new DivergenceError(epoch, s, loss, diverged, lastGood, baseLr, run.paths.dir);
        faultPoint("step");
        await yieldToEventLoop();
        const sig = interruptRequested();
        if (sig) throw new InterruptedRun(epoch, sig);
        lossSum += loss * b.labels.length;
        correct += hit;
        seen += b.labels.length;
        progress.step(epoch, E, s, steps, loss, b.labels.length);
        if ((s + 1) % cfg.training_opt.display_step === 0) run.logger.log("step", { epoch, step: s, loss, lr });
      }
      const trainSeconds = (Date.now() - t0) / 1000;
      const pass = await runPass({ backbone, head, split: dataset.val, batchSize: cfg.training_opt.eval_batch_size });
      const val = evaluate(pass.preds!, pass.labels, dataset.trainCounts);
      const rec: EpochRecord = {
        epoch,
        lr,
        train_loss: lossSum / seen,
        train_acc: correct / seen,
        val,
        images_per_s: seen / trainSeconds,
        seconds: (Date.now() - t0) / 1000,
      };
      ipsSum += rec.images_per_s;
      ipsN++;
      history.push(rec);
      run.logger.log("epoch", { ...rec, val: evalSummary(val) });
      const better = val.top1 > bestAcc;
      if (better) {
        bestAcc = val.top1;
        bestEpoch = epoch;
        bestVal = val;
      }
      const tensors = weightsOf(a);
      exportMap(opt.state(), "optim.", tensors);
      const meta: LatestMeta = {
        epoch,
        bestEpoch,
        bestAcc,
        samplerState: sampler.state(),
        rngState: rng.state(),
        history,
        run_id: run.runId,
        val_top1: val.top1,
      };
      // The best epoch's full state goes to best.ckpt first; a kill between the two writes leaves best.ckpt one
      // epoch ahead of latest.ckpt, which --resume recognises and continues from.
      if (better) {
        saveBest(run, { tensors, meta });
        faultPoint("best-saved");
      }
      saveCheckpoint(run.paths.latest, { tensors, meta });
      lastGood = { path: run.paths.latest, epoch };
      faultPoint("epoch");
      progress.message(
        `epoch ${epoch + 1}/${E}: loss ${rec.train_loss.toFixed(4)} train acc ${(rec.train_acc * 100).toFixed(1)} | val top1 ${(val.top1 * 100).toFixed(2)} ` +
          `many ${(val.many * 100).toFixed(1)} medium ${(val.medium * 100).toFixed(1)} few ${(val.few * 100).toFixed(1)} | ${rec.images_per_s.toFixed(0)} img/s ${rec.seconds.toFixed(1)} s`,
      );
      if (a.stopAfterEpochs !== undefined && epoch + 1 - startEpoch >= a.stopAfterEpochs)
        throw new InterruptedRun(epoch);
    }
  } finally {
    // Momentum buffers are only needed while training; they live on in latest.ckpt.
    opt.dispose();
  }
  if (!bestVal) throw new Error("no epoch was evaluated");
  return { bestEpoch, bestVal, history, imagesPerSecond: ipsN ? ipsSum / ipsN : 0 };
}
