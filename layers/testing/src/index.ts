/** Test doubles: stand-ins the tests (and `ml-trainer --trainer formula`) use in place of real adapters. */
export { FormulaTrainer, formulaTrainerFactory } from './formula-trainer';
