import { accuracyScore, accuracyScoreText, GENERALISATION_GAP_LIMIT, generalisationScore, overfittingGap, type Grade, type GradeInput } from '../grading';
import { pythonRound } from '../python-round';
import { gradeComponent, gradeDetail, weightedScore } from '../score-components';
import type { TaskDefinition } from './task-definition';
import type { TaskModule } from './task-module';

const ACCURACY = gradeComponent('accuracy_score', 0.6);
const GENERALISATION = gradeComponent('generalization_score', 0.4);
const COMPONENTS = [ACCURACY, GENERALISATION];

function grade(input: GradeInput, task: TaskDefinition): Grade {
  const acc = accuracyScore(input.best_val_accuracy, task);
  const gap = overfittingGap(input);
  const gen = generalisationScore(gap);
  return {
    score: pythonRound(weightedScore(COMPONENTS, { accuracy_score: acc, generalization_score: gen }), 4),
    details: {
      val_accuracy: pythonRound(input.best_val_accuracy, 4),
      overfitting_gap: pythonRound(gap, 4),
      accuracy_score: pythonRound(acc, 4),
      generalization_score: pythonRound(gen, 4),
    },
  };
}

export const mediumFashion: TaskModule<'medium_fashion'> = {
  definition: {
    task_id: 'medium_fashion',
    name: 'Fashion Item Classifier',
    description:
      'Train a small CNN to classify fashion items from FashionMNIST. ' +
      'You have 8,000 samples (6.5k train / 1.5k val) and a budget of 80 epochs. ' +
      'FashionMNIST is harder than MNIST — the small training set means overfitting is a real threat. ' +
      'Goal: maximize validation accuracy while keeping the overfitting gap (train_acc - val_acc) below 5%. ' +
      "You'll need proper optimizer selection, learning rate scheduling, and regularization.",
    difficulty: 'medium',
    model_type: 'small_cnn',
    dataset_name: 'fashion_mnist',
    max_epochs: 80,
    seed: 123,
    target_metric: 'val_accuracy',
    target_value: 0.87,
    min_score_accuracy: 0.75,
    max_score_accuracy: 0.9,
    subset: { official_train_size: 60000, train: 6500, val: 1500 },
  },
  grader: {
    grade,
    components: COMPONENTS,
    inputs: [gradeDetail('val_accuracy'), gradeDetail('overfitting_gap')],
    formula: `score = ${ACCURACY.weight} × accuracy score + ${GENERALISATION.weight} × generalisation score`,
    explain: (task) =>
      `score = ${ACCURACY.weight} * acc_score + ${GENERALISATION.weight} * clamp(1 - gap / ${GENERALISATION_GAP_LIMIT}), ` +
      `where ${accuracyScoreText(task)} and gap = train_accuracy - val_accuracy ` +
      'of the LAST trained epoch at submission (it cannot be undone by later steps; training longer usually widens it).',
  },
  rewards: { penalise_wasted_epochs: false },
  baseline: {
    plan: 'guard_the_gap',
    first_config: {
      optimizer: 'adamw',
      learning_rate: 0.001,
      batch_size: 64,
      weight_decay: 5e-4,
      dropout: 0.3,
      lr_schedule: 'constant',
      augmentation: true,
      augmentation_strength: 0.5,
    },
    measured_score: 0.8506,
  },
  estimates: { lambda_seconds_per_epoch: 2.5 },
};
