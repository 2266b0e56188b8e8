import { accuracyScore, accuracyScoreText, type Grade, type GradeInput } from '../grading';
import { pythonRound } from '../python-round';
import { gradeComponent, gradeDetail, weightedScore } from '../score-components';
import type { TaskDefinition } from './task-definition';
import type { TaskModule } from './task-module';

const ACCURACY = gradeComponent('accuracy_score', 1);

function grade(input: GradeInput, task: TaskDefinition): Grade {
  const acc = accuracyScore(input.best_val_accuracy, task);
  return {
    score: pythonRound(weightedScore([ACCURACY], { accuracy_score: acc }), 4),
    details: { val_accuracy: pythonRound(input.best_val_accuracy, 4), accuracy_score: pythonRound(acc, 4) },
  };
}

export const easyMnist: TaskModule<'easy_mnist'> = {
  definition: {
    task_id: 'easy_mnist',
    name: 'MNIST Digit Classifier',
    description:
      'Train a 2-layer MLP to classify handwritten digits from MNIST. ' +
      'You have a subset of 5,000 samples (4k train / 1k validation) and a budget of 100 epochs. ' +
      'Goal: maximize validation accuracy. Default Adam + LR=0.001 should get ~93%. ' +
      'With good hyperparameter choices you can reach 97%+.',
    difficulty: 'easy',
    model_type: 'simple_mlp',
    dataset_name: 'mnist',
    max_epochs: 100,
    seed: 42,
    target_metric: 'val_accuracy',
    target_value: 0.96,
    min_score_accuracy: 0.88,
    max_score_accuracy: 0.975,
    subset: { official_train_size: 60000, train: 4000, val: 1000 },
  },
  grader: {
    grade,
    components: [ACCURACY],
    inputs: [gradeDetail('val_accuracy')],
    formula: 'score = accuracy score',
    explain: (task) => `score = ${accuracyScoreText(task)}. Only the best validation accuracy counts.`,
  },
  rewards: { penalise_wasted_epochs: false },
  baseline: {
    // Extra epochs cost nothing here; augmentation lifts the MLP past its ~0.96 ceiling.
    plan: 'use_whole_budget',
    first_config: {
      optimizer: 'adamw',
      learning_rate: 0.002,
      batch_size: 128,
      weight_decay: 5e-4,
      dropout: 0.2,
      lr_schedule: 'cosine',
      augmentation: true,
      augmentation_strength: 0.5,
    },
    measured_score: 0.9999,
  },
  estimates: { lambda_seconds_per_epoch: 0.25 },
};
