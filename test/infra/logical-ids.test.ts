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
  api: [
    'AccessLogs8B620ECA', 'ApiAccountA18C9B29', 'ApiCloudWatchRole73EC6FC4', 'ApiCreateEpisodeB3D360BD', 'ApiDefaultPlanF61EB749',
    'ApiDeploymentStageprod3EB9684E', 'ApiF70053CD', 'ApiGatewayBADREQUESTBODYAF744095', 'ApiGatewayBADREQUESTPARAMETERS366BF19C',
    'ApiGatewayDEFAULT4XX3B37BA57', 'ApiGatewayDEFAULT5XX7404C2E6', 'ApiGatewayINVALIDAPIKEY940DE11C',
    'ApiGatewayMISSINGAUTHENTICATIONTOKEN61CB6E45', 'ApiGatewayQUOTAEXCEEDED419A72CA', 'ApiGatewayTHROTTLED72E762F5',
    'ApiHandlerBasicsLogs8EF38C5B', 'ApiHandlerBasicsRoleD4D10DA0', 'ApiHandlerBasicsRoleDefaultPolicyD47143A5',
    'ApiHandlerFunction73BB96D1', 'ApiStep8A297E53', 'ApiValidator3C8892D8', 'Apiv1D42035C8', 'Apiv1episodesB5C73AAC',
    'Apiv1episodesGET99CD0986', 'Apiv1episodesGETApiPermissionMlTrainerEnvApiE5BA6409GETv1episodes0C07CECA',
    'Apiv1episodesPOST65D291AC', 'Apiv1episodesPOSTApiPermissionMlTrainerEnvApiE5BA6409POSTv1episodes09F9C7C7',
    'Apiv1episodesepisodeid2B4779EE', 'Apiv1episodesepisodeidGET95B576D4',
    'Apiv1episodesepisodeidGETApiPermissionMlTrainerEnvApiE5BA6409GETv1episodesepisodeid846FCBF5',
    'Apiv1episodesepisodeidstepsE16E49F2', 'Apiv1episodesepisodeidstepsPOST5536DF41',
    'Apiv1episodesepisodeidstepsPOSTApiPermissionMlTrainerEnvApiE5BA6409POSTv1episodesepisodeidstepsEB38554F',
    'Apiv1episodesepisodeidstepsstepidC8EBB1F4', 'Apiv1episodesepisodeidstepsstepidGET5978BA8E',
    'Apiv1episodesepisodeidstepsstepidGETApiPermissionMlTrainerEnvApiE5BA6409GETv1episodesepisodeidstepsstepid56E04342',
    'Apiv1tasksB292EB2B', 'Apiv1tasksGET68F8C97A', 'Apiv1tasksGETApiPermissionMlTrainerEnvApiE5BA6409GETv1tasks6C7615AF',
    'Apiv1tools9D4C3DA7', 'Apiv1toolsGET5394265F', 'Apiv1toolsGETApiPermissionMlTrainerEnvApiE5BA6409GETv1toolsDF526F3D',
    'Apiv1usage24383694', 'Apiv1usageGETApiPermissionMlTrainerEnvApiE5BA6409GETv1usage1517E8E5', 'Apiv1usageGETF0B01DE8',
  ],
  compute: [
    'GradeBasicsLogsFF96A832', 'GradeBasicsRole1E128E32', 'GradeBasicsRoleDefaultPolicyAA31703F', 'GradeFailuresQueue845474C4',
    'GradeFailuresQueuePolicyADAF427F', 'GradeFunctionB3C434CD', 'GradeFunctionEventInvokeConfigF814ED97', 'Training1DBE9C16',
    'TrainingBasicsLogs492651DD', 'TrainingBasicsRoleA4BF587B', 'TrainingBasicsRoleDefaultPolicyBDFFF1DD', 'TrainingEventInvokeConfigE4C27684',
    'TrainingFailuresQueue853409FD', 'TrainingFailuresQueuePolicy50DBE937',
  ],
  batch: [
    'BatchGradingDistributedMapPolicy5B4D89A2', 'GradeBatchBasicsLogsD241CE11', 'GradeBatchBasicsRoleCFB337E9', 'GradeBatchBasicsRoleDefaultPolicyF4A185EB', 'GradeBatchFunctionF8CB6AC8',
    'BatchGradingA31E9720', 'BatchGradingRole54BA6509', 'BatchGradingRoleDefaultPolicy7CF25BEA', 'FindEpisodesBasicsLogsA9D6AB4A',
    'FindEpisodesBasicsRole3BB3D867', 'FindEpisodesBasicsRoleDefaultPolicyF0A3FEB7', 'FindEpisodesFunction236817DF', 'Schedule83A77FD1',
    'ScheduleFailuresQueueCFC670C3', 'ScheduleFailuresQueuePolicy8E162902', 'SchedulerRoleForTarget725e19694CCFC7',
    'SchedulerRoleForTarget725e19DefaultPolicy14A8DF18', 'StateMachineLogs3CB16D3C', 'WriteReportBasicsLogs6B36BFFF',
    'WriteReportBasicsRole70A24D3C', 'WriteReportBasicsRoleDefaultPolicyE43FA90F', 'WriteReportFunctionBDC03276',
  ],
  observability: [
    'AlarmTopicD01E77F9', 'AlarmTopicPolicy309DB5F8', 'Api5xx3D9EE91A', 'ApiErrors8A265993', 'ApiLatencyE391D2FB', 'ApiThrottles506DAF1E',
    'GradeBatchErrorsD00A8BD4', 'GradeBatchThrottles8E040E70', 'BatchFailedFEC8E792', 'Dashboard9E4231ED', 'FindEpisodesErrorsE7F3692C',
    'FindEpisodesThrottles646DD75E', 'GradeErrorsABED73CE', 'GradeFailuresDepth2F686FCD', 'GradeThrottlesCEB2A57E',
    'ScheduleFailuresDepthDC26704A', 'TrainingErrorsEE40C8C4', 'TrainingAsyncEventAgeA18C6076', 'TrainingFailuresDepth3A2A8599', 'TrainingStepLatencyB46B6342',
    'TrainingThrottles89DD9FCC', 'WriteReportErrorsAAF429B6', 'WriteReportThrottles98091B8D',
  ],
};

/**
 * Pinned: every resource but the CDK metadata and the API's deployment, whose logical ID is a
 * hash of the API's definition on purpose (a changed API must be deployed anew; its stage
 * stays, and with it the usage plan and the tenants' API keys).
 */
const isPinned = (id: string) => id !== 'CDKMetadata' && !/^ApiDeployment(?!Stage)/.test(id);

describe('logical IDs of the deployed resources stay as they are', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({ context: SKIP_BUNDLING, nag: false });
  });
  afterAll(() => synth?.cleanup());

  test.each(Object.entries(LOGICAL_IDS))('%s stack', (name, expected) => {
    const resources = synth.templates[name as StackName].toJSON().Resources as Record<string, unknown>;
    expect(Object.keys(resources).filter(isPinned).sort()).toEqual([...expected!].sort());
  });
});
