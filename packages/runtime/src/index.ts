export { type Clock, sleep, systemClock } from './clock.js';
export {
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  optionsHelp,
  parseCommandLine,
} from './command-line.js';
export { RuntimeError, type RuntimeErrorCode } from './errors.js';
export {
  createLogger,
  isLogLevel,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logger.js';
export { isLoopbackHost } from './loopback.js';
export {
  exitStatus,
  isProcessAlive,
  runTaskkill,
  type SignalGroupOptions,
  signalGroup,
  type Taskkill,
  taskkillTree,
} from './process.js';
export { type FindProgramOptions, findProgram } from './programs.js';
export { onShutdown, type ShutdownOptions } from './shutdown.js';
export { type CleanTextOptions, cleanText } from './text.js';
