export {
  type AveragedScores,
  accuracy,
  balancedAccuracy,
  type Calibration,
  CalibrationAccumulator,
  type CalibrationBin,
  type ClassScores,
  cohenKappa,
  expectedCalibrationError,
  logLoss,
  type PrecisionRecallF1,
  precisionRecallF1,
  topKAccuracy,
  type ZeroDivision,
} from './classification';
export { type Comparison, type ComparisonRow, compare, formatComparison } from './compare';
export {
  type ConfusedPair,
  type ConfusionMatrix,
  classTotals,
  confusionMatrix,
  mostConfusedPairs,
} from './confusion';
export {
  type ConfidenceStats,
  type EvaluateOptions,
  type EvaluationResult,
  evaluate,
  type LabelledBatch,
  type Predictor,
  quantile,
  type WorstExample,
} from './evaluate';
export { argmax, type Labels, type Probabilities } from './inputs';
export { type MappedProbabilities, mapProbabilities } from './mapping';
export {
  type ClassificationReport,
  classificationReport,
  formatReportMarkdown,
  formatReportText,
  type ReportOptions,
} from './report';
export { type ConfusionMatrixSvgOptions, confusionMatrixSvg } from './svg/confusion-matrix';
export { perClassF1Svg } from './svg/per-class-f1';
export { reliabilityDiagramSvg } from './svg/reliability';
export { type CurveSeries, trainingCurvesSvg } from './svg/training-curves';
