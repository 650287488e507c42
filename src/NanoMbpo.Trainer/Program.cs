// nanombpo: the console trainer. Each sub-command lives in Commands/<Name>Command.cs and exposes
// `static Command Create()`; CommandList lists them and Cli/CliHost parses, validates and runs them.
using NanoMbpo.Trainer.Cli;

return CliHost.Run(args);
