import { SKIP_BUNDLING, synthesize, type StackName, type Synthesized } from './synth';

// A changed logical ID replaces the resource on the next deployment: a named alarm or
// dashboard would be deleted after its replacement was written, a retained log group with a
// fixed name would block the deployment. Refactors (stacks split into constructs) must keep
// them; change a list here only on purpose.
const LOGICAL_IDS: Partial<Record<StackName, string[]>> = {
  data: [
    'AccessLogs8B620ECA', 'AccessLogsPolicyABDC4D2D', 'Checkpoints620E2F20', 'CheckpointsPolicy129C21F3', 'Datasets0030EE04',
    'DatasetsPolicy8640E9F8', 'Episodes2FA04809', 'Reports65402A0A', 'ReportsPolicyA13B441D',
  ],
  compute: [
    'GradeBasicsLogsFF96A832', 'GradeBasicsRole1E128E32', 'GradeBasicsRoleDefaultPolicyAA31703F', 'GradeFailuresQueue845474C4',
    'GradeFailuresQueuePolicyADAF427F', 'GradeFunctionB3C434CD', 'GradeFunctionEventInvokeConfigF814ED97', 'Training1DBE9C16',
    'TrainingBasicsLogs492651DD', 'TrainingBasicsRoleA4BF587B', 'TrainingBasicsRoleDefaultPolicyBDFFF1DD', 'TrainingEventInvokeConfigE4C27684',
    'TrainingFailuresQueue853409FD', 'TrainingFailuresQueuePolicy50DBE937',
  ],
  batch: [
    'AutoSubmitBasicsLogsFECBD6D6', 'AutoSubmitBasicsRoleC63D1BAE', 'AutoSubmitBasicsRoleDefaultPolicy5166EB21', 'AutoSubmitFunctionA325F1F4',
    'BatchGradingA31E9720', 'BatchGradingRole54BA6509', 'BatchGradingRoleDefaultPolicy7CF25BEA', 'FindEpisodesBasicsLogsA9D6AB4A',
    'FindEpisodesBasicsRole3BB3D867', 'FindEpisodesBasicsRoleDefaultPolicyF0A3FEB7', 'FindEpisodesFunction236817DF', 'Schedule83A77FD1',
    'ScheduleFailuresQueueCFC670C3', 'ScheduleFailuresQueuePolicy8E162902', 'SchedulerRoleForTarget725e19694CCFC7',
    'SchedulerRoleForTarget725e19DefaultPolicy14A8DF18', 'StateMachineLogs3CB16D3C', 'WriteReportBasicsLogs6B36BFFF',
    'WriteReportBasicsRole70A24D3C', 'WriteReportBasicsRoleDefaultPolicyE43FA90F', 'WriteReportFunctionBDC03276',
  ],
  observability: [
    'AlarmTopicD01E77F9', 'AlarmTopicPolicy309DB5F8', 'Api5xx3D9EE91A', 'ApiErrors8A265993', 'ApiLatencyE391D2FB', 'ApiThrottles506DAF1E',
    'AutoSubmitErrors8666A153', 'AutoSubmitThrottlesF9F048A3', 'BatchFailedFEC8E792', 'Dashboard9E4231ED', 'FindEpisodesErrorsE7F3692C',
    'FindEpisodesThrottles646DD75E', 'GradeErrorsABED73CE', 'GradeFailuresDepth2F686FCD', 'GradeThrottlesCEB2A57E',
    'ScheduleFailuresDepthDC26704A', 'TrainingErrorsEE40C8C4', 'TrainingFailuresDepth3A2A8599', 'TrainingStepLatencyB46B6342',
    'TrainingThrottles89DD9FCC', 'WriteReportErrorsAAF429B6', 'WriteReportThrottles98091B8D',
  ],
};

describe('logical IDs of the deployed resources stay as they are', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({ context: SKIP_BUNDLING, nag: false });
  });
  afterAll(() => synth?.cleanup());

  test.each(Object.entries(LOGICAL_IDS))('%s stack', (name, expected) => {
    const resources = synth.templates[name as StackName].toJSON().Resources as Record<string, unknown>;
    expect(Object.keys(resources).filter((id) => id !== 'CDKMetadata').sort()).toEqual([...expected!].sort());
  });
});
