export { median, ratio, summarize, type PassRates, type Summary } from './stats';
export { formatBytes, formatReport, formatRoundMedians, isPyTorchTiming, isSkipped, renderTable } from './report';
export type {
  BenchEnvironment,
  BenchReport,
  BenchRow,
  BenchSettings,
  CheckpointFigures,
  DataSource,
  EpochTiming,
  LoadAverage,
  OurTiming,
  ProcessFigures,
  PyTorchTiming,
  RoundMedians,
  RowFlops,
  SkippedFigures,
} from './report';
export { parsePtTiming, poolPtTimings, PtTimingFormatError, PyTorchSetupError, PYTORCH_VERSION, type PtTimingFile, type PtTimingRow } from './pytorch';
export { parseFirstEpochLine } from './child-step';
export { measureServerLatency, SERVER_CALL_KINDS, type LatencySummary, type ServerCallKind, type ServerLatencyFigures, type ServerLatencyOptions } from './server-latency';
export { renderServerLatency, STATUS_TARGET_MS } from './server-latency-report';
export { randomTaskData } from './bench-data';
export { findRepoRoot } from './environment';
export { applyThreadEnv, BenchSetupError, runBench, type BenchOptions } from './run-bench';
export { poolOurRounds, summarizeOurEpochs, type EpochRecord, type TimedTrainer } from './our-timing';
