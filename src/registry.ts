/**
 * Explicit component registries (pycls style): every backbone, sampler, classifier and dataset is
 * registered by name in one place, and an unknown name fails with the list of valid ones.
 */
export class Registry<T> {
  private readonly items = new Map<string, T>();

  /** @param kind what the registry holds, used in error messages ("backbone", "sampler", ...). */
  constructor(readonly kind: string) {}

  register(name: string, item: T): this {
    if (this.items.has(name)) throw new Error(`${this.kind} '${name}' is already registered`);
    this.items.set(name, item);
    return this;
  }

  has(name: string): boolean {
    return this.items.has(name);
  }

  /** Look a component up; the error names the valid choices so a typo in a config is easy to fix. */
  get(name: string, where?: string): T {
    const item = this.items.get(name);
    if (item === undefined) {
      const at = where ? ` (at ${where})` : "";
      throw new Error(`unknown ${this.kind} '${name}'${at}; valid ${this.kind}s: ${this.names().join(", ")}`);
    }
    return item;
  }

  names(): string[] {
    return [...this.items.keys()].sort();
  }
}
