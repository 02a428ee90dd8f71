/**
 * The stage-2 classifier methods, one file each, in the order of the paper's classifier table. This list is the one
 * place a method is added: write `methods/<name>.ts` exporting its `ClassifierMethod`, import it here and append it.
 */

import type { ClassifierMethod } from "../method.js";
import { crt } from "./crt.js";
import { joint } from "./joint.js";
import { lws } from "./lws.js";
import { ncm } from "./ncm.js";
import { tauNorm } from "./tau_norm.js";

export const METHODS: readonly ClassifierMethod[] = [joint, ncm, crt, tauNorm, lws];
