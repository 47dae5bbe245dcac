import * as vscode from 'vscode';
import type { Level, MethodName, PunctuationMode, RemovalStrategy } from '../protocol/engineApi';
import { Settings } from './ids';

/** The removal setting: `auto` lets the engine pick what suits the model family. */
export type RemovalSetting = RemovalStrategy | 'auto';
export type VariantSetting = 'fp32' | 'quantized';

/** Every setting of the extension, typed, with the defaults package.json declares. */
export interface LensConfig {
  modelPath: string;
  modelVariant: VariantSetting;
  method: MethodName;
  budget: number;
  level: Level;
  punctuation: PunctuationMode;
  removal: RemovalSetting;
  executionProviders: string[];
  /** 0 = let the runtime decide. */
  threads: number;
  maxTokens: number;
  /** Memory one request may plan to hold (MB); 0 = the engine's default, half of the machine's memory. */
  memoryLimitMb: number;
  hubEndpoint: string;
  requestTimeoutSeconds: number;
  /** Live mode: pause in typing (ms) before the refined explanation. */
  liveDebounceMs: number;
  /** Explain Sentence Pair: the text between the two texts of a pair in one selection. */
  pairSeparator: string;
}

export const DEFAULT_CONFIG: LensConfig = {
  modelPath: '',
  modelVariant: 'fp32',
  method: 'partition-shap',
  budget: 500,
  level: 'word',
  punctuation: 'feature',
  removal: 'auto',
  executionProviders: ['cpu'],
  threads: 0,
  maxTokens: 512,
  memoryLimitMb: 0,
  hubEndpoint: 'https://huggingface.co',
  requestTimeoutSeconds: 300,
  liveDebounceMs: 300,
  pairSeparator: '[SEP]',
};

/** Reads the current configuration; values of the wrong type fall back to the default. */
export function readConfig(scope?: vscode.ConfigurationScope): LensConfig {
  const c = vscode.workspace.getConfiguration(Settings.section, scope);
  const pick = <K extends keyof LensConfig>(key: K, setting: string, valid: (v: unknown) => boolean): LensConfig[K] => {
    const value = c.get<unknown>(setting);
    return (valid(value) ? value : DEFAULT_CONFIG[key]) as LensConfig[K];
  };
  const isString = (v: unknown) => typeof v === 'string';
  const isPositive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  return {
    modelPath: pick('modelPath', Settings.modelPath, isString),
    modelVariant: pick('modelVariant', Settings.modelVariant, (v) => v === 'fp32' || v === 'quantized'),
    method: pick('method', Settings.method, isString),
    budget: pick('budget', Settings.budget, isPositive),
    level: pick('level', Settings.level, (v) => v === 'word' || v === 'token'),
    punctuation: pick('punctuation', Settings.punctuation, (v) => v === 'feature' || v === 'omit'),
    removal: pick('removal', Settings.removal, (v) => v === 'auto' || v === 'mask' || v === 'attention' || v === 'delete'),
    executionProviders: pick('executionProviders', Settings.executionProviders, (v) => Array.isArray(v) && v.length > 0 && v.every(isString)),
    threads: pick('threads', Settings.threads, (v) => typeof v === 'number' && v >= 0),
    maxTokens: pick('maxTokens', Settings.maxTokens, isPositive),
    memoryLimitMb: pick('memoryLimitMb', Settings.memoryLimitMb, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0),
    hubEndpoint: pick('hubEndpoint', Settings.hubEndpoint, (v) => typeof v === 'string' && v.length > 0),
    requestTimeoutSeconds: pick('requestTimeoutSeconds', Settings.requestTimeoutSeconds, (v) => typeof v === 'number' && v >= 0),
    liveDebounceMs: pick('liveDebounceMs', Settings.liveDebounceMs, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 10_000),
    pairSeparator: pick('pairSeparator', Settings.pairSeparator, (v) => typeof v === 'string' && v.length > 0),
  };
}

/** True when a configuration change touches any ONNX Lens setting. */
export function affectsLens(event: vscode.ConfigurationChangeEvent, key?: string): boolean {
  return event.affectsConfiguration(key ? `${Settings.section}.${key}` : Settings.section);
}
