// Command moonbase is the Moonbase server and its command-line client.
package main

func main() {}
