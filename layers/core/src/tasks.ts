import { CoreError } from './core-error';

export type TaskId = 'easy_mnist' | 'medium_fashion' | 'hard_cifar';
export type ModelType = 'simple_mlp' | 'small_cnn' | 'deeper_cnn';
export type DatasetName = 'mnist' | 'fashion_mnist' | 'cifar10';

/** A task as the seed file defines it, plus the subset it draws from the official training split. */
export interface TaskDefinition {
  task_id: TaskId;
  name: string;
  description: string;
  difficulty: 'easy' | 'medium' | 'hard';
  model_type: ModelType;
  dataset_name: DatasetName;
  max_epochs: number;
  seed: number;
  target_metric: 'val_accuracy';
  target_value: number;
  /** Accuracy at or below which the accuracy score is 0 (clamped to 0.0001). */
  min_score_accuracy: number;
  /** Accuracy at or above which the accuracy score is 1 (clamped to 0.9999). */
  max_score_accuracy: number;
  subset: { official_train_size: number; train: number; val: number };
}

const TASK_LIST: readonly TaskDefinition[] = [
  {
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
  {
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
  {
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
];

export const TASK_IDS: readonly TaskId[] = TASK_LIST.map((t) => t.task_id);

export function listTasks(): readonly TaskDefinition[] {
  return TASK_LIST;
}

export function isTaskId(id: unknown): id is TaskId {
  return typeof id === 'string' && (TASK_IDS as readonly string[]).includes(id);
}

/** The task with this id; an unknown id is an error that lists the valid ones. */
export function getTask(id: string): TaskDefinition {
  const task = TASK_LIST.find((t) => t.task_id === id);
  if (!task) {
    throw new CoreError('unknown_task', `Unknown task_id ${JSON.stringify(id)}; valid task ids: ${TASK_IDS.join(', ')}.`, {
      field: 'task_id',
      allowed: [...TASK_IDS],
    });
  }
  return task;
}
