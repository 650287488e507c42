// nanombpo: the console trainer. Each sub-command lives in Commands/<Name>Command.cs and exposes
// `static Command Create()`; this file only lists them.
using System.CommandLine;
using NanoMbpo.Trainer.Commands;

var root = new RootCommand("NanoMbpo: model-based RL (MBPO + SAC) for a pizza-shop seller chatbot, in pure C#.");
foreach (var c in CommandList.All()) root.Subcommands.Add(c);
return root.Parse(args).Invoke();
