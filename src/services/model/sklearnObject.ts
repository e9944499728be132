// A scikit-learn estimator as unpickled: its class name and the attribute dict its __getstate__ saved.
import { ModelLoadError } from './errors.js';
import { asDict, asList, describeValue } from './pyValues.js';

export class SklearnObject {
  readonly #brand = true;
  #state: ReadonlyMap<string, unknown> | undefined;

  constructor(
    /** The Python module the pickle named, e.g. 'sklearn.linear_model._base'. */
    readonly module: string,
    /** The class name, e.g. 'LinearRegression'. */
    readonly className: string,
  ) {}

  static isSklearnObject(value: unknown): value is SklearnObject {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  get qualifiedName(): string {
    return `${this.module}.${this.className}`;
  }

  /** The scikit-learn version that pickled the object, if it recorded one. */
  get sklearnVersion(): string | undefined {
    const version = this.#attributes().get('_sklearn_version');
    return typeof version === 'string' ? version : undefined;
  }

  has(attribute: string): boolean {
    return this.#attributes().has(attribute);
  }

  /** An attribute (`coef_`, `with_mean`, ...); undefined when the pickle did not save it. */
  get(attribute: string): unknown {
    return this.#attributes().get(attribute);
  }

  /** pickle's BUILD: the state is the instance dict, or (dict, slots) for classes with __slots__. */
  __setstate__(state: unknown): void {
    const pair = asList(state);
    const dict = asDict(pair !== null && pair.length === 2 ? pair[0] : state);
    if (dict === null) {
      throw new ModelLoadError(
        'invalid-model',
        `${this.className} state is ${describeValue(state)}, not a dict`,
      );
    }
    const attributes = new Map<string, unknown>();
    for (const [key, value] of dict) {
      if (typeof key === 'string') attributes.set(key, value);
    }
    this.#state = attributes;
  }

  #attributes(): ReadonlyMap<string, unknown> {
    // A pickle that never BUILDs the instance leaves it without attributes, like an unfitted estimator.
    return this.#state ?? new Map();
  }
}
