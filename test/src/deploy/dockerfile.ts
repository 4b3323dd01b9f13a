/**
 * A Dockerfile read as stages of instructions (continuation lines joined, comments and parser
 * directives dropped), and the layer-order rule the containers test holds the Dockerfile to.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** The rest of the instruction, continuation lines joined with single spaces. */
  readonly args: string;
}

export interface Stage {
  /** The image or earlier stage it starts from (`${APP}` stays as written). */
  readonly from: string;
  /** Its `AS` name, if any. */
  readonly name?: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARG instructions before the first FROM. */
  readonly globalArgs: readonly string[];
  readonly stages: readonly Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  if (pending.trim()) logical.push(pending.trim());

  const globalArgs: string[] = [];
  const stages: Array<{ from: string; name?: string; instructions: Instruction[] }> = [];
  for (const l of logical.filter((x) => x !== '')) {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!;
    if (keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`FROM ${args}: not understood`);
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`${keyword} before the first FROM`);
      globalArgs.push(args);
    } else {
      stages[stages.length - 1]!.instructions.push({ keyword, args });
    }
  }
  return { globalArgs, stages };
}

/** What a COPY before the dependency install may bring in: manifests, the native-build scripts and their patches. */
const DEPENDENCY_INPUTS = /^(package(-lock)?\.json|.*\/package\.json|scripts\/(kafka-native|tfjs-native|package-patches|node-headers)\.sh|patches\/?)$/;

/** The RUNs that install dependencies or build native addons. */
const DEPENDENCY_RUN = /npm ci\b|kafka-native\.sh|tfjs-native\.sh/;

/**
 * The layer-order rule: in the chain of stages that ends with the dependency install and the
 * native builds, nothing copied before them is a source file. A COPY there takes only manifests,
 * the native-build scripts or patches from the context, or the output of a stage whose own RUNs
 * copy nothing but package.json files and the lock (a "manifests" stage may see the whole
 * context: only what it passes on counts for the cache). Returns the violations, empty when the
 * rule holds; throws when no stage installs dependencies.
 */
export function dependencyLayerViolations(file: Dockerfile): string[] {
  const byName = new Map(file.stages.filter((s) => s.name).map((s) => [s.name!, s]));
  const installIdx = file.stages.findIndex((s) => s.instructions.some((i) => i.keyword === 'RUN' && DEPENDENCY_RUN.test(i.args)));
  if (installIdx < 0) throw new Error('no stage runs npm ci or a native build');
  const violations: string[] = [];

  const checkManifestStage = (name: string): void => {
    const s = byName.get(name);
    if (!s) {
      violations.push(`COPY --from=${name}: no such stage`);
      return;
    }
    for (const run of s.instructions.filter((i) => i.keyword === 'RUN')) {
      for (const cmd of run.args.split('&&').filter((c) => /\b(cp|mv|ln|tar|rsync)\b/.test(c))) {
        if (!/-name package\.json\b|\bpackage-lock\.json\b/.test(cmd)) violations.push(`stage ${name} passes on more than manifests: ${cmd.trim()}`);
      }
      if (DEPENDENCY_RUN.test(run.args)) violations.push(`stage ${name} installs dependencies`);
    }
  };

  // Walk from the installing stage back through the stages it is built FROM.
  let stage: Stage | undefined = file.stages[installIdx];
  let upTo = stage!.instructions.map((i) => i.keyword === 'RUN' && DEPENDENCY_RUN.test(i.args)).lastIndexOf(true);
  while (stage) {
    const where = stage.name ? `stage ${stage.name}` : `stage FROM ${stage.from}`;
    stage.instructions.slice(0, upTo + 1).forEach((ins) => {
      if (ins.keyword === 'ADD') violations.push(`${where}: ADD ${ins.args} before the dependency layers`);
      if (ins.keyword === 'ARG' && /^APP\b/.test(ins.args)) violations.push(`${where}: ARG APP before the dependency layers (they would be built once per app)`);
      if (ins.keyword !== 'COPY') return;
      const words = ins.args.split(/\s+/).filter((w) => w !== '');
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      if (from !== undefined) {
        checkManifestStage(from);
        return;
      }
      for (const src of paths.slice(0, -1)) {
        if (!DEPENDENCY_INPUTS.test(src)) violations.push(`${where}: COPY ${src} (a source) before the dependency layers`);
      }
    });
    stage = byName.get(stage.from);
    upTo = stage ? stage.instructions.length - 1 : -1;
  }
  return violations;
}
