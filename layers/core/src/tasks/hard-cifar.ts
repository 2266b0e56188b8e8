import { accuracyScore, accuracyScoreText, efficiencyScore, STABILITY_THRESHOLD, stabilityScore, valLossVariance, wastedEpochs, type Grade, type GradeInput } from '../grading';
import { pythonRound } from '../python-round';
import { gradeComponent, gradeDetail, weightedScore } from '../score-components';
import type { TaskDefinition } from './task-definition';
import type { TaskModule } from './task-module';

const ACCURACY = gradeComponent('accuracy_score', 0.5);
const EFFICIENCY = gradeComponent('efficiency_score', 0.3);
const STABILITY = gradeComponent('stability_score', 0.2);
const COMPONENTS = [ACCURACY, EFFICIENCY, STABILITY];

function grade(input: GradeInput, task: TaskDefinition): Grade {
  const acc = accuracyScore(input.best_val_accuracy, task);
  const wasted = wastedEpochs(input);
  const efficiency = efficiencyScore(wasted, task.max_epochs);
  const variance = valLossVariance(input.val_loss_history);
  const stability = stabilityScore(variance);
  return {
    score: pythonRound(weightedScore(COMPONENTS, { accuracy_score: acc, efficiency_score: efficiency, stability_score: stability }), 4),
    details: {
      val_accuracy: pythonRound(input.best_val_accuracy, 4),
      wasted_epochs: wasted,
      loss_variance: pythonRound(variance, 6),
      accuracy_score: pythonRound(acc, 4),
      efficiency_score: pythonRound(efficiency, 4),
      stability_score: pythonRound(stability, 4),
    },
  };
}

export const hardCifar: TaskModule<'hard_cifar'> = {
  definition: {
    task_id: 'hard_cifar',
    name: 'CIFAR-10 Under Budget',
    description:
      'Train a deeper CNN on CIFAR-10 color images with a tight budget. ' +
      'You have 10,000 samples (8k train / 2k val) and only 60 epochs. ' +
      'CIFAR-10 is genuinely challenging for small models. The tight budget means you must ' +
      'make smart decisions fast — balance exploration (trying configs) vs exploitation ' +
      '(training with a good config). Overfitting on 8k images is severe without regularization. ' +
      'Score is based on accuracy (50%), compute efficiency (30%), and training stability (20%).',
    difficulty: 'hard',
    model_type: 'deeper_cnn',
    dataset_name: 'cifar10',
    max_epochs: 60,
    seed: 456,
    target_metric: 'val_accuracy',
    target_value: 0.65,
    min_score_accuracy: 0.4,
    max_score_accuracy: 0.68,
    subset: { official_train_size: 50000, train: 8000, val: 2000 },
  },
  grader: {
    grade,
    components: COMPONENTS,
    inputs: [gradeDetail('val_accuracy'), gradeDetail('wasted_epochs'), gradeDetail('loss_variance')],
    formula: `score = ${ACCURACY.weight} × accuracy + ${EFFICIENCY.weight} × efficiency + ${STABILITY.weight} × stability`,
    explain: (task) =>
      `score = ${ACCURACY.weight} * acc_score + ${EFFICIENCY.weight} * clamp(1 - wasted / ${task.max_epochs}) + ` +
      `${STABILITY.weight} * clamp(1 - variance / ${STABILITY_THRESHOLD}), where ${accuracyScoreText(task)}, ` +
      'wasted = current_epoch - best_val_epoch at submission, and variance = population variance of the last 10 val losses.',
  },
  rewards: { penalise_wasted_epochs: true },
  baseline: {
    plan: 'stop_after_best',
    first_config: {
      optimizer: 'adamw',
      learning_rate: 0.002,
      batch_size: 128,
      weight_decay: 5e-4,
      dropout: 0.3,
      lr_schedule: 'cosine',
      augmentation: true,
      augmentation_strength: 0.5,
    },
    measured_score: 0.9803,
  },
  estimates: { lambda_seconds_per_epoch: 9.5 },
};
