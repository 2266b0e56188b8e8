/**
 * How a grade's details are shown: the weighted sub-scores whose sum is the score, and the
 * labels of the shared details. A task's grader names its own components with these.
 */
/** A key of a grade's details with the label reports show for it. */
export interface GradeDetailLabel {
  key: string;
  label: string;
}

/** A weighted sub-score: the grade's score is the sum of weight × sub-score over its components. */
export interface ScoreComponent extends GradeDetailLabel {
  weight: number;
}

/** The labels of the details the shared building blocks above produce. */
const GRADE_DETAIL_LABELS = {
  accuracy_score: 'Accuracy score',
  generalization_score: 'Generalisation score',
  efficiency_score: 'Efficiency score',
  stability_score: 'Stability score',
  val_accuracy: 'Best validation accuracy',
  overfitting_gap: 'Overfitting gap (last train − last val accuracy)',
  wasted_epochs: 'Epochs trained after the best one',
  loss_variance: 'Variance of the last 10 val losses',
} as const;

export type SharedGradeDetail = keyof typeof GRADE_DETAIL_LABELS;

export function gradeComponent(key: SharedGradeDetail, weight: number): ScoreComponent {
  return { key, label: GRADE_DETAIL_LABELS[key], weight };
}

export function gradeDetail(key: SharedGradeDetail): GradeDetailLabel {
  return { key, label: GRADE_DETAIL_LABELS[key] };
}

/** Σ weight × sub-score, summed in the components' order (the order the seed's formulas add them). */
export function weightedScore(components: readonly ScoreComponent[], subScores: Readonly<Record<string, number>>): number {
  return components.reduce((sum, c) => sum + c.weight * (subScores[c.key] ?? 0), 0);
}
