import { CommanderError } from 'commander';
import { describeError, EXIT } from './errors';
import { createProgram } from './program';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed help, a version, or a usage message.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const { message, hint, exitCode } = describeError(error);
    process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
    process.exitCode = exitCode;
  }
}
