package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/sqlstore"
)

func userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage accounts of a node"}
	var data, db, username, password, role, display string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account (password from --password or NINETEN_PASSWORD)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if password == "" {
				password = os.Getenv("NINETEN_PASSWORD")
			}
			store, err := sqlstore.Open(cmd.Context(), databaseAddress(data, db))
			if err != nil {
				return err
			}
			defer store.Close()
			acc := &account.Service{Store: store}
			u, err := acc.CreateUser(cmd.Context(), username, password, display, nineten.Role(role))
			if err != nil {
				return err
			}
			fmt.Printf("created %s %q (id %d)\n", u.Role, u.Username, u.ID)
			return nil
		},
	}
	create.Flags().StringVar(&data, "data", "./data", "the node's data directory")
	dbFlag(create.Flags(), &db)
	create.Flags().StringVar(&username, "username", "", "username (3–32 of a-z 0-9 _ . -)")
	create.Flags().StringVar(&password, "password", "", "password (at least 8 characters)")
	create.Flags().StringVar(&role, "role", "listener", "listener, artist or admin")
	create.Flags().StringVar(&display, "display-name", "", "name shown to others")
	_ = create.MarkFlagRequired("username")
	cmd.AddCommand(create)
	return cmd
}
