Feature: The organization's admin looks after the Procountor integration in Settings → Integrations
  As the admin of an organization that uses Spotilla
  I want to switch the Procountor integration on with our own API key, run it, preview it, and see what waits and why
  so that our completed work becomes invoices in Procountor without anyone at Spotilla doing it for us,
  and what is held back is fixed and sent without retyping anything

  Spotilla's operators look after every organization from the same place; an organization's admin sees only its own.

  Background:
    Given the organization "Putkityö Virtanen Oy" uses Spotilla
    And Spotilla's product register has:
      | code  | name       | unit | unit price | VAT % |
      | ASE-1 | Asennustyö | h    | 62.00      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And the task "Vesivuodon korjaus" for "Rakennus Oy" was completed today, with:
      | product | quantity |
      | ASE-1   | 2        |
    And the organization's admin has opened Settings → Integrations

  Scenario: The admin switches the integration on with the organization's API key
    When the admin switches the integration on with the organization's Procountor API key
    Then the integration is switched on, in the organization's company in Procountor
    And the page says an API key is stored, without showing it

  Scenario: A key Procountor refuses is not stored, and the admin is told how to create one
    When the admin switches the integration on with an API key Procountor does not accept
    Then the integration stays switched off
    And the API key field says Procountor refused the key
    And the API key field tells how to create one: "Basics → API client keys → New API key", with the integration's client id
    And no API key is stored

  Scenario: A wrong bank account is refused, with the reason on the bank account field
    When the admin switches the integration on with the bank account "FI49 5000 9420 0287 31"
    Then the integration stays switched off
    And the bank account field says "not a valid IBAN"
    And no API key is stored

  Scenario: Changing the policy later without giving the API key again keeps the stored key
    Given the admin has switched the integration on
    When the admin changes the policy to "only tasks with an order number", without giving the API key again
    Then the page says the integration transfers only tasks with an order number
    And the page says an API key is stored, without showing it
    When the admin presses Run now
    Then the run succeeds
    And the task "Vesivuodon korjaus" waits because NO_ORDER_NUMBER

  Scenario: Run now transfers the completed tasks as unfinished invoices
    Given the admin has switched the integration on
    When the admin presses Run now
    Then the run succeeds
    And Procountor has an unfinished invoice to "Rakennus Oy" for the task "Vesivuodon korjaus"
    And the page shows 1 task transferred and nothing waiting

  Scenario: Asking for a run while one is already waiting is refused politely
    Given the admin has switched the integration on
    And the admin has pressed Run now
    And the task "Lukon vaihto" for "Rakennus Oy" was completed today, with:
      | product | quantity |
      | ASE-1   | 1        |
    And a run of the organization is under way, waiting for Procountor to answer
    And the admin has asked for another run after it
    When the admin presses Run now again
    Then the admin is told a run is already waiting and to wait for it to finish
    When Procountor answers again and the runs have finished
    Then Procountor has 2 invoices, one for each task

  Scenario: Preview shows what the next run would create and hold back, and nothing is sent or stored
    Given the admin has switched the integration on
    And Spotilla's customer register also has:
      | name      | business ID |
      | Kauppa Oy |             |
    And the task "Lukon vaihto" for "Kauppa Oy" was completed today, with:
      | product | quantity |
      | ASE-1   | 1        |
    When the admin asks for a preview
    Then the preview lists:
      | what                    | outcome          | reason              |
      | product Asennustyö      | would be created |                     |
      | customer Rakennus Oy    | would be created |                     |
      | customer Kauppa Oy      | held back        | BUSINESS_ID_MISSING |
      | task Vesivuodon korjaus | would be created |                     |
      | task Lukon vaihto       | held back        | BUSINESS_ID_MISSING |
    And nothing was created or changed in Procountor
    And the page shows no runs and nothing waiting

  Scenario: A task held back for its customer's missing business ID is invoiced after the fix and a retry
    Given the admin has switched the integration on
    And Spotilla's customer register also has:
      | name      | business ID |
      | Kauppa Oy |             |
    And the task "Lukon vaihto" for "Kauppa Oy" was completed today, with:
      | product | quantity |
      | ASE-1   | 1        |
    When the admin presses Run now
    Then the held-back list shows:
      | what               | reason              | says                     |
      | task Lukon vaihto  | BUSINESS_ID_MISSING | has no business ID       |
      | customer Kauppa Oy | BUSINESS_ID_MISSING | add it in Spotilla       |
    And Procountor has an unfinished invoice to "Rakennus Oy" for the task "Vesivuodon korjaus"
    When the business ID of "Kauppa Oy" is set to "2077474-0" in Spotilla
    And the admin presses Retry on the task "Lukon vaihto"
    Then Procountor has an unfinished invoice to "Kauppa Oy" for the task "Lukon vaihto"
    And the page shows 2 tasks transferred and nothing waiting

  Scenario: The admin of one organization can neither see nor change another organization
    Given the organization "Sähkö Lahtinen Oy" also uses the integration, in a Procountor company of its own
    When the admin of "Putkityö Virtanen Oy" tries to reach "Sähkö Lahtinen Oy":
      | attempt                          |
      | see the settings                 |
      | see the state at a glance        |
      | see the items that wait          |
      | see the runs                     |
      | see a run                        |
      | change the settings              |
      | switch the integration off       |
      | press Run now                    |
      | ask for a preview                |
      | retry a task                     |
      | retry everything that failed     |
    Then every attempt is refused, saying the admin may see only their own organization
    And the integration of "Sähkö Lahtinen Oy" is as it was, and it has no new runs
    And the admin of "Putkityö Virtanen Oy" may not see the list of every organization

  Scenario: Spotilla's operators see every organization, the ones needing attention first
    Given the admin has switched the integration on
    And the admin has pressed Run now
    And the organization "Sähkö Lahtinen Oy" also uses the integration, in a Procountor company of its own
    And Procountor has revoked the API key of "Sähkö Lahtinen Oy", and its last run failed
    When Spotilla's operator opens the overview of every organization
    Then the overview lists, in this order:
      | organization         | needs attention |
      | Sähkö Lahtinen Oy    | yes             |
      | Putkityö Virtanen Oy | no              |
    And the overview says of "Sähkö Lahtinen Oy" to create a new API key in Procountor

  Scenario: Switching off keeps the links, and switching on again invoices nothing twice
    Given the admin has switched the integration on
    And the admin has pressed Run now
    When the admin switches the integration off
    Then the integration is switched off
    And the page still shows 1 task transferred, 1 customer and 1 product linked
    And Run now is refused because the integration is switched off
    When the task "Lukon vaihto" for "Rakennus Oy" is completed today, with:
      | product | quantity |
      | ASE-1   | 1        |
    And the admin switches the integration on again, without giving the API key
    And the admin presses Run now
    Then Procountor has 2 invoices, one for each task
    And Procountor has 1 customer "Rakennus Oy" and 1 product "ASE-1"
