// A scikit-learn Pipeline predstream can run: StandardScaler steps, then one linear regressor.
import { assertFeatureVector, type ScoringModel } from './regressionModel.js';
import type { StandardScalerStep } from './standardScaler.js';

export class PipelineModel implements ScoringModel {
  readonly kind: string;
  readonly nFeatures: number;

  constructor(
    private readonly transforms: readonly StandardScalerStep[],
    private readonly final: ScoringModel,
  ) {
    this.kind = `Pipeline(${[...transforms.map((t) => t.kind), final.kind].join(', ')})`;
    this.nFeatures = transforms[0]?.nFeatures ?? final.nFeatures;
  }

  predict(features: readonly number[]): number {
    assertFeatureVector(features, this.nFeatures);
    return this.score(features);
  }

  score(features: ArrayLike<number>): number {
    let x: ArrayLike<number> = features;
    for (const step of this.transforms) x = step.transform(x);
    return this.final.score(x);
  }

  describe(): string {
    return `Pipeline: ${[...this.transforms.map((t) => t.describe()), this.final.describe()].join(', then ')}`;
  }
}
